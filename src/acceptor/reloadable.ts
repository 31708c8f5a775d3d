/**
 * A file an acceptor loads from a setting and loads again on SIGHUP
 * (ACCESS_FILE; the TLS files join the same list). A load that fails keeps
 * what was loaded before: a typo in a file being rotated must not lock every
 * client out, or leave a listener without a certificate.
 */
import type { FileLoad } from '../hop/tasks.js';

export class ReloadableFile {
  readonly setting: string;
  readonly path: string;
  /** Reads and applies the file; throws, with a message naming the problem, when it is bad (nothing applied). */
  readonly #apply: (path: string) => void;
  #loadedAt = 0;
  #error: string | undefined;

  /** `apply` reads `path` and puts its content in force, or throws without changing anything. */
  constructor(setting: string, path: string, apply: (path: string) => void) {
    this.setting = setting;
    this.path = path;
    this.#apply = apply;
  }

  /** Loads the file now; a bad file keeps the content in force and is reported in the result. */
  load(): FileLoad {
    try {
      this.#apply(this.path);
      this.#loadedAt = Date.now();
      this.#error = undefined;
    } catch (err) {
      this.#error = (err as Error).message;
    }
    return this.status();
  }

  /** When it was last loaded, and the last attempt's problem. */
  status(): FileLoad {
    const s: FileLoad = { setting: this.setting, path: this.path, loadedAt: this.#loadedAt };
    if (this.#error !== undefined) s.error = this.#error;
    return s;
  }
}
