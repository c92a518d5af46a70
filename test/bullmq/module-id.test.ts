// Module ids that travel, and the allow list of workers (no Redis needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkAllow, isAllowed, portableModuleId, resolveJobModule, toRootUrl } from "../../src/bullmq/module-id.js";

const ROOT = "file:///srv/app/";

describe("portable module ids", () => {
  it("keeps a bare specifier and a node: builtin as they are", () => {
    assert.equal(portableModuleId("my-jobs/work.js", ROOT), "my-jobs/work.js");
    assert.equal(portableModuleId("@scope/jobs", null), "@scope/jobs");
    assert.equal(portableModuleId("node:zlib", null), "node:zlib");
  });

  it("makes a file under the root a ./relative path, and refuses one outside it or with no root", () => {
    assert.equal(portableModuleId("file:///srv/app/jobs/resize.js", ROOT), "./jobs/resize.js");
    assert.throws(() => portableModuleId("file:///srv/other/x.js", ROOT), /not under the executor's root/);
    assert.throws(() => portableModuleId("file:///srv/app/x.js", null), /has none/);
    assert.throws(() => portableModuleId("https://example.invalid/x.js", ROOT), /cannot travel/);
  });

  it("normalises a root given as a path or a URL without a trailing slash", () => {
    assert.equal(toRootUrl("/srv/app", "root"), ROOT);
    assert.equal(toRootUrl(new URL("file:///srv/app"), "root"), ROOT);
    assert.throws(() => toRootUrl("relative/dir", "root"), TypeError);
  });
});

describe("allow lists", () => {
  it("requires a non-empty list of package names and ./paths", () => {
    assert.throws(() => checkAllow(undefined), /`allow` is required/);
    assert.throws(() => checkAllow([]), /`allow` is required/);
    assert.throws(() => checkAllow(["./"]), TypeError);
    assert.throws(() => checkAllow([42]), TypeError);
    assert.deepEqual(checkAllow(["my-jobs", "./jobs/"]), ["my-jobs", "./jobs/"]);
  });

  it("matches a package and its subpaths, a file exactly, a directory by prefix", () => {
    const allow = ["my-jobs", "./jobs/", "./one.js", "node:zlib"];
    assert.ok(isAllowed("my-jobs", allow));
    assert.ok(isAllowed("my-jobs/work.js", allow));
    assert.ok(!isAllowed("my-jobs-evil/work.js", allow));
    assert.ok(isAllowed("./jobs/a/b.js", allow));
    assert.ok(isAllowed("./one.js", allow));
    assert.ok(!isAllowed("./one.js.bak", allow));
    assert.ok(isAllowed("node:zlib", allow));
    assert.ok(!isAllowed("node:child_process", allow));
  });

  it("resolves a ./path under the worker's own root, and refuses ids that leave it or are not allowed", () => {
    const allow = ["./jobs/", "node:zlib"];
    assert.equal(resolveJobModule("./jobs/a.js", allow, "file:///opt/deploy/"), "file:///opt/deploy/jobs/a.js");
    assert.equal(resolveJobModule("node:zlib", allow, ROOT), "node:zlib");
    assert.throws(() => resolveJobModule("./jobs/../secret.js", allow, ROOT), /must not leave the root/);
    assert.throws(() => resolveJobModule("./jobs/%2e%2e/secret.js", allow, ROOT), /must not leave the root/);
    assert.throws(() => resolveJobModule("data:text/javascript,1", allow, ROOT), /not a package name/);
    assert.throws(() => resolveJobModule("./other.js", allow, ROOT), /not in its allow list/);
    assert.throws(() => resolveJobModule(42, allow, ROOT), /names no module/);
  });
});
