// Which versions serve errors. A version is marked bad for every service or for one; the
// synthetic traffic of a bad version fails, which is what an SLO gate has to catch.

export class BadVersions {
  private readonly everywhere = new Set<string>();
  private readonly forService = new Map<string, Set<string>>();
  // markGood(v, s) while v is bad for every service needs an exception for s.
  private readonly goodExcept = new Map<string, Set<string>>();

  isBad(service: string, version: string): boolean {
    if (this.forService.get(service)?.has(version)) return true;
    return this.everywhere.has(version) && !this.goodExcept.get(service)?.has(version);
  }

  /** Without a service: bad for every service. */
  markBad(version: string, service?: string): void {
    if (service === undefined) {
      this.everywhere.add(version);
      for (const s of this.goodExcept.values()) s.delete(version);
    } else {
      let s = this.forService.get(service);
      if (!s) this.forService.set(service, (s = new Set()));
      s.add(version);
      this.goodExcept.get(service)?.delete(version);
    }
  }

  /** Without a service: good for every service. */
  markGood(version: string, service?: string): void {
    if (service === undefined) {
      this.everywhere.delete(version);
      for (const s of this.forService.values()) s.delete(version);
      for (const s of this.goodExcept.values()) s.delete(version);
    } else {
      this.forService.get(service)?.delete(version);
      if (this.everywhere.has(version)) {
        let s = this.goodExcept.get(service);
        if (!s) this.goodExcept.set(service, (s = new Set()));
        s.add(version);
      }
    }
  }

  reset(): void {
    this.everywhere.clear();
    this.forService.clear();
    this.goodExcept.clear();
  }
}
