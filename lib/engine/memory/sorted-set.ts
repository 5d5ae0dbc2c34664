/** A member and its score. */
export interface Scored {
  member: string;
  score: number;
}

/** Redis' order: by score, then by member (byte order, which code-unit order matches for ASCII). */
function compare(a: Scored, b: Scored): number {
  if (a.score !== b.score) return a.score - b.score;
  return a.member < b.member ? -1 : a.member > b.member ? 1 : 0;
}

/**
 * A Redis sorted set: members with scores, kept in Redis' order, so that ranges,
 * ties and trims come out as ZRANGE and ZREMRANGEBYRANK would give them. An array
 * sorted by binary insertion: the engine's sets are bounded (the dead set by
 * deadMaxJobs, the processing set by maxDemand per taker).
 */
export class SortedSet {
  private readonly entries: Scored[] = [];
  private readonly scores = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  score(member: string): number | undefined {
    return this.scores.get(member);
  }

  /** Adds `member`, or moves it to `score`. */
  add(member: string, score: number): void {
    this.remove(member);
    const entry = { member, score };
    this.entries.splice(this.indexOf(entry), 0, entry);
    this.scores.set(member, score);
  }

  /** False when `member` was not there. */
  remove(member: string): boolean {
    const score = this.scores.get(member);
    if (score === undefined) return false;
    this.entries.splice(this.indexOf({ member, score }), 1);
    this.scores.delete(member);
    return true;
  }

  /** Members scored at most `max` (or below it when `exclusive`), lowest first, at most `limit`. */
  upTo(max: number, limit = Infinity, exclusive = false): Scored[] {
    const found: Scored[] = [];
    for (const entry of this.entries) {
      if (found.length >= limit || entry.score > max || (exclusive && entry.score === max)) break;
      found.push({ ...entry });
    }
    return found;
  }

  /** Members scored exactly `score`. */
  at(score: number): Scored[] {
    return this.entries.filter((entry) => entry.score === score).map((entry) => ({ ...entry }));
  }

  /** Members by rank, `start` to `stop` inclusive; negative ranks count from the end (ZRANGE). */
  range(start: number, stop: number): Scored[] {
    const [from, to] = this.ranks(start, stop);
    return this.entries.slice(from, to + 1).map((entry) => ({ ...entry }));
  }

  /** Every member, in order. */
  all(): Scored[] {
    return this.range(0, -1);
  }

  /** Removes the members of ranks `start` to `stop` (ZREMRANGEBYRANK); resolves to how many. */
  removeRanks(start: number, stop: number): number {
    const [from, to] = this.ranks(start, stop);
    if (to < from) return 0;
    for (const entry of this.entries.splice(from, to - from + 1)) this.scores.delete(entry.member);
    return to - from + 1;
  }

  /** Removes members scored below `max`, or at most `max` when `inclusive`. */
  removeUpTo(max: number, inclusive: boolean): number {
    const gone = this.upTo(max, Infinity, !inclusive);
    for (const { member } of gone) this.remove(member);
    return gone.length;
  }

  private ranks(start: number, stop: number): [number, number] {
    const n = this.entries.length;
    const from = Math.max(0, start < 0 ? n + start : start);
    const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
    return [from, to];
  }

  /** Where `entry` is, or would go. */
  private indexOf(entry: Scored): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.entries[mid], entry) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
