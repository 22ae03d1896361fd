type Listener = EventListenerOrEventListenerObject;

/**
 * A real `EventTarget` whose listeners cannot hurt the dispatcher. Node's EventTarget turns an
 * exception thrown by a listener into an uncaught exception that ends the process; browsers only
 * report it. Here every listener, and every `on*` handler, is wrapped so that an exception is
 * handed to `onListenerError()` and the other listeners and the socket carry on.
 */
export abstract class GuardedEventTarget extends EventTarget {
  // One wrapper per listener, so add/remove pairs and de-duplication behave as specified.
  readonly #wrappers = new WeakMap<Listener, EventListener>();
  readonly #handlers = new Map<string, (event: Event) => unknown>();

  /** Called with whatever a listener threw, and the event it was handling. */
  protected abstract onListenerError(error: unknown, event: Event): void;

  override addEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener == null) return;
    super.addEventListener(type, this.#wrap(listener), options);
  }

  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener == null) return;
    super.removeEventListener(type, this.#wrappers.get(listener) ?? listener, options);
  }

  /** The `on<type>` handler, as the `onopen`-style properties read it. */
  protected getHandler(type: string): ((event: Event) => unknown) | null {
    return this.#handlers.get(type) ?? null;
  }

  /**
   * Sets or clears the `on<type>` handler. As an `EventHandler` attribute (WebIDL
   * `[LegacyTreatNonObjectAsNull]`), it keeps any object, and anything else clears it; an
   * object that cannot be called throws when the event comes, which is reported.
   */
  protected setHandler(type: string, handler: unknown): void {
    if (typeof handler !== 'function' && (typeof handler !== 'object' || handler === null)) {
      this.#handlers.delete(type);
      return;
    }
    const first = !this.#handlers.has(type);
    this.#handlers.set(type, handler as (event: Event) => unknown);
    if (first) {
      // One permanent listener per type calls whatever handler is current (HTML §8.1.8.1).
      const invoke = (event: Event) => this.#handlers.get(type)?.call(this, event);
      super.addEventListener(type, this.#wrap(invoke));
    }
  }

  #wrap(listener: Listener): EventListener {
    let wrapped = this.#wrappers.get(listener);
    if (wrapped) return wrapped;
    const onError = (error: unknown, event: Event) => this.onListenerError(error, event);
    wrapped = function (this: unknown, event: Event) {
      try {
        if (typeof listener === 'function') listener.call(this, event);
        else listener.handleEvent(event);
      } catch (error) {
        onError(error, event);
      }
    };
    this.#wrappers.set(listener, wrapped);
    return wrapped;
  }
}
