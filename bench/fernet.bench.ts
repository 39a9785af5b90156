/**
 * Fernet throughput. Baseline: the bare node:crypto work a token needs
 * (AES-128-CBC + HMAC-SHA256 over the same bytes), measured in the same run,
 * so the ratio shows what the framing, base64 and checks cost.
 * Run: node dist/bench/fernet.bench.js
 */
import { createCipheriv, createHmac, randomBytes } from "node:crypto";

import { decryptProfile, encryptProfile, Fernet } from "../lib/crypto";

const DURATION_MS = Number(process.env.BENCH_MS ?? 400);

function measure(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(DURATION_MS) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - start) / 1e9);
}

function emit(metric: string, value: number, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ bench: "fernet", metric, value: Math.round(value), unit: "ops/s", ...extra }));
}

const key = Fernet.generateKey();
const fernet = new Fernet(key);
const raw = Buffer.from(key, "base64url");

for (const size of [64, 1024]) {
  const data = randomBytes(size);
  const token = fernet.encrypt(data);

  const baseline = measure(() => {
    const iv = randomBytes(16);
    const c = createCipheriv("aes-128-cbc", raw.subarray(16), iv);
    const ct = Buffer.concat([c.update(data), c.final()]);
    createHmac("sha256", raw.subarray(0, 16)).update(ct).digest();
  });
  const enc = measure(() => void fernet.encrypt(data));
  const dec = measure(() => void fernet.decrypt(token, 3600));
  emit("baseline_aes_cbc_hmac", baseline, { payloadBytes: size });
  emit("encrypt", enc, { payloadBytes: size, vsBaseline: +(enc / baseline).toFixed(2) });
  emit("decrypt_ttl", dec, { payloadBytes: size, vsBaseline: +(dec / baseline).toFixed(2) });
}

const blob = encryptProfile("bench", { age: 70, photosensitive: true, preferredCctRange: { minKelvin: 2700, maxKelvin: 4000 } }, fernet);
emit("decrypt_profile", measure(() => void decryptProfile(blob, fernet)));
