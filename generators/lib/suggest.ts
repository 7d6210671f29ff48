/**
 * Did-you-mean: the closest known word to a likely typo, for hints.
 */
import { distance } from 'fastest-levenshtein';

/** The closest candidate to `word`, if it is close enough to be a likely typo (within `maxDistance` edits when given). */
export function didYouMean(word: string, candidates: Iterable<string>, maxDistance?: number): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = maxDistance ?? Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

export function hintFor(word: string, candidates: Iterable<string>): string | undefined {
  const m = didYouMean(word, candidates);
  return m === undefined ? undefined : `did you mean '${m}'?`;
}
