// The models Discover holds: at most two at once (a base and a variant side by side), each in an engine of its own
// so both can answer in the same step. A step that needs other models reloads a slot; one that runs its own
// engine (the model diff, the checkpoint timeline) asks for every slot to be released first.
import type { LabEngine, Progress, SaeInfo } from '../engine/api';

/** One model Discover can load: a folder in Hugging Face layout (absolute URL, ending in `/`). */
export interface SlotModel {
  /** variants.json `id`, e.g. `voices` or `voices-hacker-ft`. */
  id: string;
  folder: string;
  onnxFile?: string;
}

export interface HeldModel {
  model: SlotModel;
  engine: LabEngine;
  sae: SaeInfo;
}

export interface ModelSlotsOptions {
  /** Makes an engine (a worker in the page, an in-thread engine in tests). */
  createEngine: () => LabEngine;
  /** Absolute URL of the SAE every variant shares (variants.json `sae`). */
  sae: string;
  /** Layers to instrument (the SAE's), when known before loading; see LoadModelOptions.layers. */
  layers?: number[];
  backend?: 'webgpu' | 'wasm' | 'auto';
  /** At most this many models held at once (default 2). */
  capacity?: number;
  /** Called whenever the set of held models changes, with their ids. */
  onChange?: (held: string[]) => void;
}

/** More models asked for at once than the slots hold. */
export class SlotCapacityError extends Error {
  constructor(asked: number, capacity: number) {
    super(`Asked for ${asked} models at once; Discover holds at most ${capacity}.`);
    this.name = 'SlotCapacityError';
  }
}

interface Slot {
  engine: LabEngine;
  /** The model the engine holds (or is loading); null after a failed load. */
  model: SlotModel | null;
  ready: Promise<SaeInfo> | null;
}

/**
 * Holds up to `capacity` models. `acquire` returns an engine per requested model, in order, reusing one already
 * loaded and otherwise loading into a slot that holds nothing requested (loading a model into an engine frees the
 * one it held). Calls are queued, so two steps never load into the same slot at once.
 */
export class ModelSlots {
  readonly #options: ModelSlotsOptions;
  readonly #slots: Slot[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ModelSlotsOptions) {
    this.#options = options;
  }

  get capacity(): number {
    return this.#options.capacity ?? 2;
  }

  /** Ids of the models held now (loaded or loading). */
  held(): string[] {
    return this.#slots.filter((s) => s.model).map((s) => s.model!.id);
  }

  /**
   * Engines holding `models` (same order). Throws `SlotCapacityError` for more than `capacity` models; a failed
   * load rejects with the engine's error and leaves that slot empty (the other slots keep their models).
   */
  acquire(models: SlotModel[], onProgress?: (p: Progress, model: SlotModel) => void): Promise<HeldModel[]> {
    const run = this.#queue.then(() => this.#acquire(models, onProgress));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Disposes every engine (their workers end and the models are released); later `acquire` calls start afresh. */
  releaseAll(): Promise<void> {
    const run = this.#queue.then(async () => {
      const slots = this.#slots.splice(0);
      await Promise.all(slots.map((s) => s.engine.dispose().catch(() => undefined)));
      this.#changed();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * An engine factory for a runner that loads models of its own, one at a time, and disposes its engine when done
   * (the lab's model diff and checkpoint timeline). Every call returns the first slot's engine (made if there is
   * none), so the runner needs no new worker and no new WebAssembly compile; its `dispose` only cancels what the
   * engine is doing. The slot follows what the runner loads (named from `known` by folder and graph, else by its
   * folder), so `held()` stays true while it runs and a later `acquire` can reuse the model it left loaded. The
   * other slot's model and the runner's make two at most.
   */
  lend(known: SlotModel[] = []): Promise<() => LabEngine> {
    const run = this.#queue.then(() => {
      let slot = this.#slots[0];
      if (!slot) {
        slot = { engine: this.#options.createEngine(), model: null, ready: null };
        this.#slots.push(slot);
      }
      const lentSlot = slot;
      const name = (folder: string, onnxFile?: string): SlotModel =>
        known.find((m) => m.folder === folder && (m.onnxFile ?? '') === (onnxFile ?? '')) ?? known.find((m) => m.folder === folder) ?? { id: folder.replace(/\/$/, '').split('/').pop() ?? folder, folder, onnxFile };
      const changed = () => this.#changed();
      const lent = new Proxy(lentSlot.engine, {
        get(target, key) {
          if (key === 'dispose') return async () => target.cancel();
          if (key === 'loadModel')
            return (source: Parameters<LabEngine['loadModel']>[0], options: Parameters<LabEngine['loadModel']>[1]) => {
              lentSlot.model = { ...name(source.baseUrl, source.onnxFile), onnxFile: source.onnxFile };
              lentSlot.ready = null;
              changed();
              return target.loadModel(source, options);
            };
          if (key === 'loadSae')
            return (url: string, onProgress?: (p: Progress) => void) => {
              const ready = target.loadSae(url, onProgress);
              lentSlot.ready = ready;
              ready.catch(() => undefined);
              return ready;
            };
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return () => lent;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops whatever the held engines are doing (generation, analysis). */
  cancel(): void {
    for (const s of this.#slots) s.engine.cancel();
  }

  async #acquire(models: SlotModel[], onProgress?: (p: Progress, model: SlotModel) => void): Promise<HeldModel[]> {
    if (models.length > this.capacity) throw new SlotCapacityError(models.length, this.capacity);
    const same = (a: SlotModel | null, b: SlotModel) => !!a && a.folder === b.folder && (a.onnxFile ?? '') === (b.onnxFile ?? '');
    const chosen: Slot[] = [];
    for (const m of models) {
      const held = this.#slots.find((s) => !chosen.includes(s) && s.ready !== null && same(s.model, m));
      if (held) chosen.push(held);
      else chosen.push(null as unknown as Slot);
    }
    const reused = new Set(chosen.filter(Boolean));
    models.forEach((m, i) => {
      if (chosen[i]) return;
      // A slot no other requested model uses (one holding nothing requested first), else a new one while under capacity.
      const free = this.#slots.filter((s) => !chosen.includes(s));
      let slot = free.find((s) => !models.some((x) => same(s.model, x))) ?? free[0];
      if (!slot) {
        slot = { engine: this.#options.createEngine(), model: null, ready: null };
        this.#slots.push(slot);
      }
      slot.model = m;
      slot.ready = this.#load(slot, m, onProgress);
      chosen[i] = slot;
    });
    this.#changed();
    const out: HeldModel[] = [];
    for (let i = 0; i < models.length; i++) {
      const slot = chosen[i];
      try {
        // A model a lent engine left loaded may have been cut short (a cancelled run): load it again once.
        const sae = reused.has(slot) ? await slot.ready!.catch(() => (slot.ready = this.#load(slot, models[i], onProgress))) : await slot.ready!;
        out.push({ model: models[i], engine: slot.engine, sae });
      } catch (error) {
        slot.model = null;
        slot.ready = null;
        this.#changed();
        throw error;
      }
    }
    return out;
  }

  async #load(slot: Slot, m: SlotModel, onProgress?: (p: Progress, model: SlotModel) => void): Promise<SaeInfo> {
    const o = this.#options;
    await slot.engine.loadModel(
      { baseUrl: m.folder, onnxFile: m.onnxFile },
      { backend: o.backend ?? 'auto', quickStart: false, layers: o.layers, onProgress: (p) => onProgress?.(p, m) },
    );
    return slot.engine.loadSae(o.sae, (p) => onProgress?.(p, m));
  }

  #changed(): void {
    this.#options.onChange?.(this.held());
  }
}
