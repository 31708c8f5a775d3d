import t from 'tap';
import { Flights } from '../src/cache/singleflight.js';

t.test('the first waiter starts the flight, later ones join it', async (t) => {
  const f = new Flights<number>();
  t.equal(f.join('k', 1), true);
  t.equal(f.join('k', 2), false);
  t.equal(f.join('k', 3), false);
  t.equal(f.join('other', 4), true);
  t.equal(f.size, 2);
  t.equal(f.coalesced, 2);
  t.same(f.land('k'), [1, 2, 3]);
  t.equal(f.size, 1);
  t.same(f.land('k'), [], 'landing twice yields nothing');
  t.equal(f.join('k', 5), true, 'a miss after landing starts a new flight');
});
