import t from 'tap';
import { Flights } from '../src/cache/singleflight.js';

t.test('the first waiter starts the flight, later ones join it', async (t) => {
  const f = new Flights<number>();
  t.equal(f.join('k', 1), true);
  t.equal(f.join('k', 2), false);
  t.equal(f.join('k', 3), false);
  t.equal(f.join('other', 4), true);
  t.equal(f.size, 2);
  t.same(f.land('k'), [1, 2, 3]);
  t.equal(f.size, 1);
  t.same(f.land('k'), [], 'landing twice yields nothing');
  t.equal(f.join('k', 5), true, 'a miss after landing starts a new flight');
});

t.test('a poisoned flight still answers its waiters but reports itself poisoned', async (t) => {
  const f = new Flights<number>();
  f.poison('k');
  t.equal(f.join('k', 1), true);
  t.equal(f.poisoned('k'), false, 'poisoning before the flight started does not stick');
  f.join('k', 2);
  f.join('other', 3);
  f.poison('k');
  t.equal(f.poisoned('k'), true);
  t.equal(f.poisoned('other'), false, 'only the named flight');
  t.same(f.land('k'), [1, 2], 'the waiters still get the reply');
  f.join('k', 4);
  t.equal(f.poisoned('k'), false, 'the next flight of the key starts clean');
  f.poisonAll();
  t.equal(f.poisoned('k'), true, 'poisonAll reaches every flight in the air');
  t.equal(f.poisoned('other'), true);
  f.land('k');
  f.land('other');
  t.equal(f.poisoned('k'), false);
  f.join('k', 5);
  t.equal(f.poisoned('k'), false, 'landing cleared the marks');
});
