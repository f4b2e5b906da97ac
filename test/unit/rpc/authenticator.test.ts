// Bearer tokens: each token's last proving header is remembered, and a header is accepted from
// that memory only when it is that very header; everything else goes through the digests.
import { describe, expect, it } from "vitest";
import { type AuthConfig, Authenticator } from "../../../src/rpc/auth.js";

const alice = "alice-token-0123456789abcdef";
const bob = "bob-token-0123456789abcdef!!";
const config = {
  tokens: [
    { name: "alice", token: alice, namespaces: ["*"], rights: ["read"] },
    { name: "bob", token: bob, namespaces: ["*"], rights: ["read", "write"] },
  ],
  identities: [],
  open: {},
} as unknown as AuthConfig;

describe("Authenticator", () => {
  it("answers a proven header again, and refuses headers that only look like it", () => {
    const auth = new Authenticator(config, {});
    expect(auth.authenticate(`Bearer ${alice}`, undefined).name).toBe("alice");
    expect(auth.authenticate(`Bearer ${alice}`, undefined).name).toBe("alice"); // from memory
    // One character off, the same length: no match in memory, and the digest refuses it.
    const forged = `Bearer ${alice.slice(0, -1)}g`;
    expect(() => auth.authenticate(forged, undefined)).toThrow(/not valid/);
    expect(() => auth.authenticate(`Bearer ${alice}x`, undefined)).toThrow(/not valid/);
    // Another token keeps its own principal, before and after both are remembered.
    expect(auth.authenticate(`Bearer ${bob}`, undefined).name).toBe("bob");
    expect(auth.authenticate(`Bearer ${bob}`, undefined).name).toBe("bob");
    expect(auth.authenticate(`Bearer ${alice}`, undefined).name).toBe("alice");
    // The same token written differently is proven by its digest, and then remembered too.
    expect(auth.authenticate(`bearer   ${alice}  `, undefined).name).toBe("alice");
    expect(auth.authenticate(`bearer   ${alice}  `, undefined).name).toBe("alice");
    expect(() => auth.authenticate(`Bearer${alice}`, undefined)).toThrow(/must be "Bearer <token>"/);
  });
});
