// The models loaded for chatting. A model loads on its first reply and stays loaded while it is used;
// at most `capacity` stay loaded (two, so a side-by-side comparison keeps both), and loading one
// more unloads the one used least recently, which the UI is told in words.
import type { ChatMode, ChatModelNotice } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { openChatModel, type ChatModel } from './chat-model.js';

export interface ModelRef {
  id: string;
  name: string;
  path: string;
  mode: ChatMode;
}

export interface ModelLease {
  model: ChatModel;
  /** Call when the reply is over; the model stays loaded for the next one. */
  release(): void;
}

interface Slot {
  ref: ModelRef;
  model: Promise<ChatModel>;
  /** Replies using the model now; a model in use is never unloaded. */
  users: number;
  lastUsed: number;
}

export class ModelHost {
  private readonly slots = new Map<string, Slot>();
  private uses = 0;

  constructor(
    private readonly notify: (notice: ChatModelNotice) => void,
    private readonly capacity = 2,
  ) {}

  async acquire(ref: ModelRef): Promise<ModelLease> {
    const key = `${ref.id} ${JSON.stringify(ref.mode)}`;
    let slot = this.slots.get(key);
    if (!slot) {
      this.makeRoomFor(ref);
      slot = { ref, model: this.load(ref), users: 0, lastUsed: 0 };
      this.slots.set(key, slot);
    }
    const held = slot;
    held.users++;
    held.lastUsed = ++this.uses;
    try {
      const model = await held.model;
      let released = false;
      return {
        model,
        release: () => {
          if (!released) held.users--;
          released = true;
        },
      };
    } catch (err) {
      held.users--;
      if (this.slots.get(key) === held) this.slots.delete(key);
      throw err;
    }
  }

  /** Unloads every model (when the app closes). */
  async close(): Promise<void> {
    const slots = [...this.slots.values()];
    this.slots.clear();
    await Promise.all(
      slots.map((slot) =>
        slot.model.then(
          (m) => m.dispose(),
          () => undefined,
        ),
      ),
    );
  }

  private async load(ref: ModelRef): Promise<ChatModel> {
    this.notify({ modelId: ref.id, modelName: ref.name, state: 'loading', message: `Loading "${ref.name}"…` });
    const model = await openChatModel(ref.path, ref.mode);
    const format =
      model.format.kind === 'template'
        ? 'It reads the conversation in the chat format it was trained with.'
        : 'It was not trained to chat, so it writes on from the conversation as plain text.';
    const message = [`"${ref.name}" is loaded.`, model.formatNote ?? format, model.contextNote].filter(Boolean).join(' ');
    this.notify({ modelId: ref.id, modelName: ref.name, state: 'ready', message });
    return model;
  }

  private makeRoomFor(ref: ModelRef): void {
    while (this.slots.size >= this.capacity) {
      const idle = [...this.slots.entries()].filter(([, s]) => s.users === 0).sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (!idle) {
        throw new ApiError('bad_request', `${this.capacity} other models are writing replies right now. Wait for one to finish, or stop it, then try again.`);
      }
      const [key, slot] = idle;
      this.slots.delete(key);
      void slot.model.then(
        (m) => m.dispose(),
        () => undefined,
      );
      this.notify({
        modelId: slot.ref.id,
        modelName: slot.ref.name,
        state: 'unloaded',
        message: `Unloaded "${slot.ref.name}" to load "${ref.name}": at most ${this.capacity} models stay loaded at once.`,
      });
    }
  }
}
