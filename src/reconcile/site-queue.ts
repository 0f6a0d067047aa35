/** Within one controller, work on a site runs strictly one after another, whatever asks for it. */
export class SiteQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(site: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(site) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.tails.set(site, tail);
    void tail.then(() => {
      if (this.tails.get(site) === tail) this.tails.delete(site);
    });
    return next;
  }
}
