#!/usr/bin/env node
import {
  DEFAULT_RELEASE,
  HOST_PACKAGES,
  checkToolchain,
  ensureHostPackages,
  ensureTarget,
  stderrSink
} from "./chunks/chunk-B2Q4NLRO.js";
import {
  UsageError,
  defineCli,
  runCli
} from "./chunks/chunk-DGMV7F27.js";

// src/setup/cli-spec.ts
var SETUP_CLI = defineCli({
  name: "ksplice-setup",
  summary: "prepare (or find in the cache) the replica of a Debian target kernel and check this machine's toolchain against it",
  usage: [
    "--release=RELEASE [--cache-dir=DIR] [--json] [--allow-toolchain-mismatch]",
    "--host-packages-only   (install the host's apt packages, nothing else)"
  ],
  options: {
    release: {
      type: "string",
      value: "RELEASE",
      description: "the Debian kernel release to prepare: any amd64 or cloud-amd64 kernel Debian's archive holds, e.g. 6.1.0-50-amd64 (the default target of the other tools), 6.1.0-47-cloud-amd64, 6.12.115+deb12-amd64; or latest (the newest 6.1 ABI) or latest-6.12. Downloads about 1 GB of Debian's packages the first time"
    },
    "cache-dir": {
      type: "string",
      value: "DIR",
      description: "where prepared targets are kept (default: $KSPLICE_CACHE_DIR, else $XDG_CACHE_HOME/ksplice-action, else ~/.cache/ksplice-action)"
    },
    json: { type: "boolean", default: false, description: "print the prepared target (its paths, the toolchain check) as one JSON object" },
    "allow-toolchain-mismatch": {
      type: "boolean",
      default: false,
      description: "succeed even if this machine's compiler is not the one that built the target"
    },
    "host-packages-only": { type: "boolean", default: false, description: "install the host's apt packages (gcc-12, make, ...) and stop" }
  },
  notes: [
    "Refused by name before any download: a release the archive does not hold, a flavour other than amd64 and cloud-amd64 (rt, other architectures), packages missing or disagreeing on their source version, a target compiler this machine cannot install.",
    "With no --release and no --host-packages-only nothing is done (usage error): a setup downloads and unpacks gigabytes, so it is never started by default."
  ],
  exitCodes: ["ok", "error", "usage", "sigint", "sigterm"]
});

// src/setup/cli.ts
runCli(SETUP_CLI, async ({ values }) => {
  if (values["host-packages-only"]) {
    await ensureHostPackages(HOST_PACKAGES, stderrSink);
    return;
  }
  if (!values.release)
    throw new UsageError(
      `nothing to do: give --release=RELEASE (the default target is ${DEFAULT_RELEASE}; about 1 GB to download) or --host-packages-only`
    );
  const target = await ensureTarget({ release: values.release, cacheDir: values["cache-dir"] });
  const toolchain = await checkToolchain(target, { allowMismatch: values["allow-toolchain-mismatch"] });
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...target, toolchain }, null, 2) + "\n");
  } else {
    for (const [key, value] of Object.entries(target)) process.stdout.write(`${key.padEnd(16)} ${value}
`);
    process.stdout.write(`${"toolchain".padEnd(16)} ${toolchain.local.ccVersionText} (matches the target)
`);
  }
});
