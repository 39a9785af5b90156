import assert from 'node:assert/strict';
import { MeetingRoomScenario } from '../../../../lib/dali/sim/meeting-room';
import { OfficeDayScenario } from '../../../../lib/dali/sim/scenario';

describe('sim/meeting-room: MeetingRoomScenario', () => {
  it('meetings of 30-90 min start and end within office hours, with the room empty between them', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const room = new MeetingRoomScenario({ seed });
      const meetings = room.occupancyIntervals();
      assert.ok(meetings.length >= 2, `seed ${seed}: ${meetings.length} meetings`);
      for (const [i, m] of meetings.entries()) {
        const length = m.endMin - m.startMin;
        assert.ok(length >= 30 && length <= 90, `seed ${seed}: meeting of ${length} min`);
        assert.ok(m.startMin >= 8 * 60 && m.endMin <= 18 * 60, `seed ${seed}: ${m.startMin}-${m.endMin} outside 8:00-18:00`);
        const next = meetings[i + 1];
        if (next) assert.ok(next.startMin - m.endMin >= 15, `seed ${seed}: gap of ${next.startMin - m.endMin} min`);
        // Occupied during the meeting, empty just before it starts and right after it ends.
        assert.equal(room.isOccupied(m.startMin), true);
        assert.equal(room.isOccupied(m.endMin - 0.5), true);
        assert.equal(room.isOccupied(m.startMin - 1), false);
        assert.equal(room.isOccupied(m.endMin), false);
      }
      for (const minute of [0, 7 * 60, 18 * 60, 23 * 60])
        assert.equal(room.isOccupied(minute), false, `seed ${seed}: occupied at ${minute}`);
      assert.equal(room.movement(3 * 60), false, 'no movement in an empty room');
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = new MeetingRoomScenario({ seed: 5 }).occupancyIntervals();
    assert.deepEqual(new MeetingRoomScenario({ seed: 5 }).occupancyIntervals(), a);
    assert.notDeepEqual(new MeetingRoomScenario({ seed: 6 }).occupancyIntervals(), a);
    const samples = (seed: number): unknown[] => [300, 600, 900].map((m) => new MeetingRoomScenario({ seed }).sample(m));
    assert.deepEqual(samples(5), samples(5));
  });

  it('has less daylight than the open office of the same seed', () => {
    for (const minute of [9 * 60, 12 * 60, 15 * 60]) {
      const room = new MeetingRoomScenario({ seed: 3 }).daylightLux(minute);
      const office = new OfficeDayScenario({ seed: 3 }).daylightLux(minute);
      assert.ok(room < office, `${minute}: ${room} vs ${office}`);
      assert.ok(room > 0, 'but some');
    }
  });

  it('honours office hours and meeting lengths from its options', () => {
    const room = new MeetingRoomScenario({ seed: 2, officeStartHour: 13, officeEndHour: 17, minMeetingMinutes: 45, maxMeetingMinutes: 45 });
    const meetings = room.occupancyIntervals();
    assert.ok(meetings.length >= 1);
    for (const m of meetings) {
      assert.equal(m.endMin - m.startMin, 45);
      assert.ok(m.startMin >= 13 * 60 && m.endMin <= 17 * 60);
    }
  });
});
