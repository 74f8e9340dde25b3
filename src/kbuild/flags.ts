/**
 * The extra compiler flags of every build in the prepared tree.
 *
 * Function and data sections give each function its own section, which is what lets the differ
 * compare and extract functions one by one. They are also passed to `make prepare` at setup:
 * kbuild re-runs asm-offsets, bounds and scripts/mod whenever KCFLAGS changes, so a tree that is
 * always built with the same flags never rebuilds those between the pre and post builds.
 */
export const UPDATE_KCFLAGS = '-ffunction-sections -fdata-sections';

/** Arguments for `make` in the prepared tree: the flags above and a job per core. */
export function kbuildArgs(tree: string, jobs: number): string[] {
  return ['-C', tree, `-j${jobs}`, `KCFLAGS=${UPDATE_KCFLAGS}`];
}
