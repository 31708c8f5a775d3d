/** The one redaction of secrets (src/redact.ts). */
import t from 'tap';
import { redactUrl } from '../src/redact.js';

t.test('a URL keeps everything but its password', async (t) => {
  t.equal(redactUrl('redis://u:pw@h:1/2'), 'redis://u:***@h:1/2');
  t.equal(redactUrl('rediss://:pw@h:1'), 'rediss://:***@h:1');
  t.equal(redactUrl('redis://h:1'), 'redis://h:1', 'nothing to hide');
});

t.test('text that is not a URL keeps only what follows its last @', async (t) => {
  t.equal(redactUrl('redis://u:p@ss@h:99999'), '***@h:99999', 'a bad port, a password with an @');
  t.equal(redactUrl('not a url'), 'not a url', 'no @, no secret');
});
