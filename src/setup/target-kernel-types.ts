/**
 * The prepared replica of a Debian target kernel, as `ensureTarget()` leaves it in the cache.
 * Every later stage (double build, differ tests, QEMU guest, module build) takes its paths from here.
 */
export interface TargetKernel {
  /** Kernel release as `uname -r` prints it, e.g. `6.1.0-50-amd64`. */
  release: string;
  /** Debian source package version all the packages came from, e.g. `6.1.176-1`. */
  sourceVersion: string;
  /** Upstream kernel version of the source tree, e.g. `6.1.176`. */
  upstreamVersion: string;
  /** Cache folder holding everything below. */
  root: string;
  /** Extracted `linux-source-*` tree with Debian's config, after `make olddefconfig prepare modules_prepare`. */
  sourceDir: string;
  /** The article's config directory: `.config`, real `System.map`, `build` -> headersDir. */
  configDir: string;
  /** Debian's headers for external modules (`make -C headersDir M=...`); top Makefile rewritten to the cache. */
  headersDir: string;
  /** Bootable compressed kernel from `linux-image-*-unsigned`. */
  vmlinuz: string;
  /** Debian's vmlinux from the `-dbg` package, debug info stripped, symbols and code kept. */
  vmlinux: string;
  /** Real System.map (from the `-dbg` package; `/boot`'s is a stub). */
  systemMap: string;
  /** Debian's kernel config (the headers' `.config`, which the build used). */
  config: string;
  /** `lib/modules/<release>` of the image package (in-tree modules, modules.dep). */
  modulesDir: string;
}
