import assert from 'node:assert/strict';
import { PresenceTrack } from '../../../lib/features';
import { mulberry32, randInt } from '../../helpers/prng';

describe('lib/features/stats PresenceTrack', () => {
  it('keeps readings sorted by ts, equal ts in arrival order, whatever the arrival order', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = mulberry32(seed);
      const track = new PresenceTrack();
      const arrived: Array<{ ts: number; value: boolean; seq: number }> = [];
      for (let seq = 0; seq < 500; seq++) {
        // Mostly in order, some far back, many equal timestamps.
        const ts = rng() < 0.7 ? seq * 10 : randInt(rng, 0, seq) * 10;
        const value = rng() < 0.5;
        track.add(ts, value);
        arrived.push({ ts, value, seq });
      }
      const expected = [...arrived].sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      assert.deepEqual(
        track.ts,
        expected.map((a) => a.ts),
        `seed ${seed}: ts`,
      );
      assert.deepEqual(
        track.value,
        expected.map((a) => a.value),
        `seed ${seed}: values`,
      );
      assert.equal(track.length, 500);
    }
  });
});
