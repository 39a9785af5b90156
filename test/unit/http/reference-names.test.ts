import { strict as assert } from 'node:assert';
import { withReferenceNames } from '../../../lib/http/reference-names';

describe('lib/http/reference-names', () => {
  it("adds the reference's name right after ours, in pages' items, leaving what needs nothing as it is (no copy)", () => {
    const untouched = { id: 1, zone: 'office-1', data: { row: { sensorId: 'deeper than three levels stays' } } };
    const page = { items: [untouched, { id: 2, sensorId: 's-1', zone: 'office-1' }], total: 2 };
    const out = withReferenceNames(page);
    assert.deepEqual(
      JSON.stringify(out),
      JSON.stringify({ items: [untouched, { id: 2, sensorId: 's-1', sensor_id: 's-1', zone: 'office-1' }], total: 2 }),
    );
    assert.equal(out.items[0], untouched, 'an object with nothing to add is the same object');
    assert.equal(page.items[1] && 'sensor_id' in page.items[1], false, 'the input is not mutated');
    const plain = { items: [{ id: 1 }], total: 1 };
    assert.equal(withReferenceNames(plain), plain);
    const both = { sensor_id: 'theirs', sensorId: 'ours' };
    assert.deepEqual(withReferenceNames(both), both, 'a name the answer already has is left alone');
  });
});
