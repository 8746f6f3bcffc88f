import { Emitter } from "./emitter.js";
import { ConflictError, isTransient } from "./errors.js";
import { SessionStore, type JsonObject, type SaveResult } from "./store.js";
import type { Transport } from "./transport.js";

export type AutoSaverStatus = "idle" | "dirty" | "saving" | "saved" | "retrying" | "conflict" | "error" | "closed";

export interface AutoSaverEvents extends Record<string, unknown> {
  status: AutoSaverStatus;
  saving: { reason: SaveReason };
  saved: SaveResult & { reason: SaveReason };
  /** the state equals what was last saved: no request was made */
  skipped: { reason: SaveReason };
  /** another writer saved first; auto-saving pauses until resolveConflict() */
  conflict: { latestNumber?: number; expectedNumber?: number; error: ConflictError };
  retry: { attempt: number; delayMs: number; error: unknown };
  error: { error: unknown; reason: SaveReason };
}

export type SaveReason = "interval" | "debounce" | "flush" | "close" | "unload";

export interface RetryOptions {
  /** attempts after the first (default 5) */
  retries?: number;
  /** first delay, doubled each attempt, with jitter (default 250 ms) */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface AutoSaverOptions<S extends object> {
  /** a SessionStore or the Transport to build one on */
  store: SessionStore | Transport;
  sessionId: string;
  /** save at least this often while there are unsaved changes (default 30 s; 0 = off) */
  intervalMs?: number;
  /** save after this quiet period following a change (default 5 s; 0 = off) */
  debounceMs?: number;
  /**
   * The snapshot number the current state was restored from (0 for a new session). Every save
   * passes it as p_expected_number, so a save never overwrites another writer's newer state.
   * Omit it to call load() first, or to save without the check (undefined: last writer wins).
   */
  expectedNumber?: number;
  /** p_metadata of each save, e.g. { trigger: "auto" } */
  metadata?: JsonObject | ((reason: SaveReason) => JsonObject | undefined);
  retry?: RetryOptions;
  /** Serialises a state to compare with the last saved one (default: JSON.stringify). */
  fingerprint?: (state: S) => string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The seed app's auto-save, without a framework: call update(state) on every change; it saves
 * after `debounceMs` of quiet and at least every `intervalMs` while changes are unsaved, one
 * save in flight per session at a time, skipping states equal to the last saved one. A
 * conflict (another tab or process saved first) pauses saving and emits "conflict" instead of
 * overwriting. Transient failures are retried with exponential backoff. close() flushes
 * (node shutdown); bindLifecycle() does it on SIGINT/SIGTERM or, in browsers, on pagehide
 * with a keepalive fetch that carries the JWT (sendBeacon cannot).
 */
export class AutoSaver<S extends object = JsonObject> extends Emitter<AutoSaverEvents> {
  readonly store: SessionStore;
  readonly sessionId: string;
  private readonly opts: AutoSaverOptions<S>;
  private expected: number | undefined;
  private state: S | undefined;
  private stateKey: string | undefined;
  private savedKey: string | undefined;
  private inFlight: Promise<SaveResult | undefined> | undefined;
  private again = false;
  private debounceTimer: ReturnType<typeof setTimeout> | undefined;
  private intervalTimer: ReturnType<typeof setInterval> | undefined;
  private _status: AutoSaverStatus = "idle";
  private conflicted = false;
  private closed = false;
  private unbind: (() => void) | undefined;

  constructor(options: AutoSaverOptions<S>) {
    super();
    this.opts = options;
    this.store = options.store instanceof SessionStore ? options.store : new SessionStore(options.store);
    this.sessionId = options.sessionId;
    this.expected = options.expectedNumber;
    const interval = options.intervalMs ?? 30_000;
    if (interval > 0) this.intervalTimer = setInterval(() => void this.save("interval").catch(() => {}), interval);
    (this.intervalTimer as { unref?: () => void } | undefined)?.unref?.();
  }

  get status(): AutoSaverStatus {
    return this._status;
  }
  /** The snapshot number of the last save or load (what the next save expects to be latest). */
  get expectedNumber(): number | undefined {
    return this.expected;
  }
  get dirty(): boolean {
    return this.stateKey !== undefined && this.stateKey !== this.savedKey;
  }

  /** Restores the latest state and remembers its number as the expected one. */
  async load(): Promise<S | undefined> {
    const snap = await this.store.getSnapshot<S>(this.sessionId);
    this.expected = snap?.snapshot_number ?? 0;
    if (snap) {
      this.state = snap.snapshot_data;
      this.stateKey = this.savedKey = this.key(snap.snapshot_data);
    }
    return snap?.snapshot_data;
  }

  /** Records the current state; saves after the quiet period. */
  update(state: S): void {
    if (this.closed) throw new Error("AutoSaver is closed");
    this.state = state;
    this.stateKey = this.key(state);
    if (!this.dirty) return;
    if (!this.conflicted) this.setStatus("dirty");
    const debounce = this.opts.debounceMs ?? 5_000;
    if (debounce > 0) {
      if (this.debounceTimer) clearTimeout(this.debounceTimer);
      this.debounceTimer = setTimeout(() => {
        this.debounceTimer = undefined;
        void this.save("debounce").catch(() => {});
      }, debounce);
    }
  }

  /** Saves now if there are unsaved changes (waits for a save in flight first). */
  flush(): Promise<SaveResult | undefined> {
    return this.save("flush");
  }

  /**
   * After a conflict: continue from `latestNumber` (restore, merge, update(merged) first), or
   * call it with no argument to load the latest and drop the unsaved state.
   */
  async resolveConflict(latestNumber?: number): Promise<void> {
    this.conflicted = false;
    if (latestNumber === undefined) {
      await this.load();
      this.setStatus("saved");
    } else {
      this.expected = latestNumber;
      this.setStatus(this.dirty ? "dirty" : "idle");
    }
  }

  /** Stops the timers and saves what is unsaved (node: call it on shutdown). */
  async close(): Promise<SaveResult | undefined> {
    if (this.closed) return undefined;
    this.stopTimers();
    this.unbind?.();
    let result: SaveResult | undefined;
    try {
      result = await this.save("close");
    } finally {
      this.closed = true;
      this.setStatus("closed");
    }
    return result;
  }

  /**
   * Saves on the way out: in browsers on `pagehide` (and when the tab is hidden) with a
   * keepalive request, in node on SIGINT/SIGTERM (then the signal's default exit) and
   * beforeExit. Returns a function that removes the hooks.
   */
  bindLifecycle(): () => void {
    const g = globalThis as unknown as {
      addEventListener?: (t: string, l: () => void) => void;
      removeEventListener?: (t: string, l: () => void) => void;
      document?: { visibilityState?: string };
      process?: NodeJS.Process;
    };
    if (g.addEventListener && g.document) {
      const onHide = () => {
        if (g.document?.visibilityState === undefined || g.document.visibilityState === "hidden") void this.unloadSave();
      };
      const onPageHide = () => void this.unloadSave();
      g.addEventListener("pagehide", onPageHide);
      g.addEventListener("visibilitychange", onHide);
      this.unbind = () => {
        g.removeEventListener?.("pagehide", onPageHide);
        g.removeEventListener?.("visibilitychange", onHide);
      };
    } else if (g.process?.once) {
      const proc = g.process;
      const onSignal = (signal: NodeJS.Signals) => {
        void this.close().finally(() => {
          if (proc.listenerCount(signal) === 0) proc.kill(proc.pid, signal);
        });
      };
      const onBeforeExit = () => void this.close();
      proc.once("SIGINT", onSignal);
      proc.once("SIGTERM", onSignal);
      proc.once("beforeExit", onBeforeExit);
      this.unbind = () => {
        proc.off("SIGINT", onSignal);
        proc.off("SIGTERM", onSignal);
        proc.off("beforeExit", onBeforeExit);
      };
    }
    return () => this.unbind?.();
  }

  /** The last-chance save of a page that is going away: one keepalive request, no retries. */
  async unloadSave(): Promise<SaveResult | undefined> {
    if (!this.dirty || this.conflicted || this.inFlight || this.state === undefined) return undefined;
    const key = this.stateKey;
    try {
      const result = await this.store.saveSnapshot(this.sessionId, this.state, this.saveOptions("unload"), { keepalive: true });
      this.accept(result, key, "unload");
      return result;
    } catch (error) {
      this.emit("error", { error, reason: "unload" });
      return undefined;
    }
  }

  /** Saves if dirty; never two in flight: a save requested meanwhile runs after the current one. */
  save(reason: SaveReason): Promise<SaveResult | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (reason !== "debounce" && this.debounceTimer) {
      clearTimeout(this.debounceTimer);
      this.debounceTimer = undefined;
    }
    if (this.inFlight) {
      this.again = true;
      const wait = this.inFlight;
      return wait.then(() => (this.inFlight ? this.inFlight : this.save(reason)));
    }
    const run = this.saveOnce(reason).finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        if (this.dirty && !this.conflicted) void this.save(reason).catch(() => {});
      }
    });
    this.inFlight = run;
    return run;
  }

  private async saveOnce(reason: SaveReason): Promise<SaveResult | undefined> {
    if (this.conflicted || this.state === undefined) return undefined;
    if (!this.dirty) {
      this.emit("skipped", { reason });
      return undefined;
    }
    const state = this.state;
    const key = this.stateKey;
    this.setStatus("saving");
    this.emit("saving", { reason });
    const retry = this.opts.retry ?? {};
    const retries = retry.retries ?? 5;
    const base = retry.baseDelayMs ?? 250;
    const max = retry.maxDelayMs ?? 10_000;
    let transientSeen = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.store.saveSnapshot(this.sessionId, state, this.saveOptions(reason));
        this.accept(result, key, reason);
        return result;
      } catch (error) {
        if (error instanceof ConflictError) {
          // A retried save whose first attempt committed before the connection dropped finds
          // its own snapshot as the latest: that is success, not a conflict.
          if (transientSeen && (await this.isLatest(state, error.latestNumber))) {
            const result = { snapshot_number: error.latestNumber!, created: false } as SaveResult;
            this.accept(result, key, reason);
            return result;
          }
          this.conflicted = true;
          this.setStatus("conflict");
          this.emit("conflict", { latestNumber: error.latestNumber, expectedNumber: this.expected, error });
          return undefined;
        }
        if (isTransient(error) && attempt < retries) {
          transientSeen = true;
          const delayMs = Math.min(max, base * 2 ** attempt) * (0.5 + Math.random() / 2);
          this.setStatus("retrying");
          this.emit("retry", { attempt: attempt + 1, delayMs, error });
          await sleep(delayMs);
          continue;
        }
        this.setStatus("error");
        this.emit("error", { error, reason });
        throw error;
      }
    }
  }

  private async isLatest(state: S, latestNumber: number | undefined): Promise<boolean> {
    if (latestNumber === undefined) return false;
    try {
      const snap = await this.store.getSnapshot<S>(this.sessionId, latestNumber);
      return snap !== undefined && canonical(snap.snapshot_data) === canonical(state);
    } catch {
      return false;
    }
  }

  private accept(result: SaveResult, key: string | undefined, reason: SaveReason) {
    this.savedKey = key;
    if (this.expected !== undefined || result.snapshot_number !== undefined) this.expected = result.snapshot_number;
    this.setStatus(this.dirty ? "dirty" : "saved");
    this.emit("saved", { ...result, reason });
  }

  private saveOptions(reason: SaveReason) {
    const m = this.opts.metadata;
    return {
      expectedNumber: this.expected,
      metadata: typeof m === "function" ? m(reason) : m,
    };
  }

  private key(state: S): string {
    return this.opts.fingerprint ? this.opts.fingerprint(state) : JSON.stringify(state);
  }

  private setStatus(s: AutoSaverStatus) {
    if (this._status === s) return;
    this._status = s;
    this.emit("status", s);
  }

  private stopTimers() {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.intervalTimer = this.debounceTimer = undefined;
  }
}

/** JSON with sorted keys: jsonb does not keep key order, so compare states this way. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return (
      "{" +
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => JSON.stringify(k) + ":" + canonical(o[k]))
        .join(",") +
      "}"
    );
  }
  return JSON.stringify(v);
}
