// Type tests of the option-key lists, checked by `tsc --noEmit` (tsconfig.json includes test/);
// never run. A key list given to `checkOptions` must name every key of the options' type, so
// an option added to an interface without being listed fails the typecheck.
import { checkOptions } from "../../src/internal/validate.js";

interface ExampleOptions {
  alpha?: number;
  beta?: string | null;
}

const ALL = ["alpha", "beta"] as const satisfies readonly (keyof ExampleOptions)[];
const SOME = ["alpha"] as const satisfies readonly (keyof ExampleOptions)[];
const LOOSE: readonly string[] = ["alpha", "beta"];

/** Never called: only type-checked. */
export function optionKeyLists(options: ExampleOptions | undefined, given: ExampleOptions = {}): void {
  checkOptions("f()", options, ALL);
  checkOptions("f()", given, ALL);
  checkOptions("f()", options, ["alpha", "beta"]);
  checkOptions("f()", options, [...ALL, "extra"]);
  // @ts-expect-error `beta` is not listed
  checkOptions("f()", options, SOME);
  // @ts-expect-error `beta` is not listed
  checkOptions("f()", given, ["alpha"]);
  // @ts-expect-error a list of any strings proves nothing: it must be a const array
  checkOptions("f()", options, LOOSE);
  // @ts-expect-error a name that is not a key of the interface
  const _stray = ["alpha", "gamma"] as const satisfies readonly (keyof ExampleOptions)[];
}
