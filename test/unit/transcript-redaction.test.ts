// The transcript (replayed by learners, printed in reports) never shows a token: not the one a check names
// with opts.redact, in that command or any later one of the lesson, and no token-like value a command
// prints (a JWT, a token Secret's base64 data, a "token"/"password" JSON field). The check itself still
// gets the real output. The executor here is a stub: the tests look only at what is recorded.
import { describe, expect, it } from 'vitest';
import { CheckFailed, redactTokens } from '../../src/lessons/context.js';
import type { Executor } from '../../src/lessons/types.js';
import { testContext } from '../lesson-context.js';

// A made-up JWT shape (header.payload.signature, each base64url), and its base64 as a Secret stores it.
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const JWT_B64 = Buffer.from(JWT).toString('base64');

function stub(answer: (command: string) => { exitCode?: number; stdout?: string; stderr?: string }): Executor {
  return {
    name: 'stub',
    run: async (command) => ({ exitCode: 0, stdout: '', stderr: '', ...answer(command) }),
  };
}

const everything = (ctx: ReturnType<typeof testContext>) => JSON.stringify([ctx.transcript, ctx.notes]);

describe('transcript redaction', () => {
  it('hides a token printed by kubectl create token and by a token Secret, while the check reads the real value', async () => {
    const ctx = testContext({
      executor: stub((c) =>
        c.includes('create token') ? { stdout: `${JWT}\n` } : { stdout: JSON.stringify({ kind: 'Secret', data: { 'ca.crt': 'LS0tLS1CRUdJTg==', token: JWT_B64, namespace: 'ZGVmYXVsdA==' } }) },
      ),
    });
    const created = await ctx.kubectl(['create', 'token', 'default']);
    expect(created.stdout.trim()).toBe(JWT);
    const secret = await ctx.kubectlJson<{ data: { token: string; namespace: string } }>(['get', 'secret', 'default-token-x']);
    expect(secret.data.token).toBe(JWT_B64);
    expect(ctx.transcript[0]!.stdout.trim()).toBe('$TOKEN');
    expect(ctx.transcript[1]!.stdout).toContain('"token":"<redacted>"');
    expect(ctx.transcript[1]!.stdout).toContain('"namespace":"ZGVmYXVsdA=="');
    expect(everything(ctx)).not.toContain(JWT);
    expect(everything(ctx)).not.toContain(JWT_B64);
  });

  it('keeps a secret named with opts.redact hidden in later commands of the lesson, their output, errors and notes', async () => {
    const opaque = 'not-a-jwt-but-secret-0123456789';
    // The lesson's scope holds what was learned; each check gets a new context on it.
    const secrets = new Map<string, string>();
    const ctx = testContext({
      secrets,
      executor: stub((c) => (c.includes('whoami') ? { exitCode: 1, stderr: `error: token ${opaque} expired` } : { stdout: `using ${opaque}` })),
    });
    await ctx.kubectl(['--token', opaque, 'get', '--raw', '/api'], { redact: { [opaque]: '$TOKEN' } });
    // A later command of the same lesson, in a new context, that was not told about the secret.
    const later = testContext({ secrets, executor: stub(() => ({ exitCode: 1, stderr: `error: token ${opaque} expired` })) });
    await expect(later.kubectl(['auth', 'whoami'])).rejects.toThrow(/token \$TOKEN expired/);
    expect(() => later.fail(`the API refused ${opaque}`)).toThrow(new CheckFailed('the API refused $TOKEN'));
    later.note(`tried ${opaque}`);
    expect(ctx.transcript[0]!.command).toBe('kubectl -n k8slab-services --token $TOKEN get --raw /api');
    expect(ctx.transcript[0]!.stdout).toBe('using $TOKEN');
    expect(later.transcript[0]!.stderr).toBe('error: token $TOKEN expired');
    expect(later.notes).toEqual(['tried $TOKEN']);
    expect(everything(ctx) + everything(later)).not.toContain(opaque);
  });

  it('hides a JWT wherever it appears, e.g. in a wget a pod prints, and leaves ordinary text alone', () => {
    expect(redactTokens(`Authorization: Bearer ${JWT}\nHTTP/1.1 200 OK`)).toBe('Authorization: Bearer $TOKEN\nHTTP/1.1 200 OK');
    const plain = 'pod1 10.1.1.5 -> 10.1.2.7; eyJ alone; myweb-sts-0.myweb-svc-headless.k8slab-statefulset.svc.cluster.local';
    expect(redactTokens(plain)).toBe(plain);
  });
});
