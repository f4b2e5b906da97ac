// A redis-server of a test's own, on a free loopback port, that the test may kill and restart
// (the shared test Redis must stay up for the other suites).
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A redis-server child process the test controls. */
export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and waits until it answers PING (bounded). */
  async restart(): Promise<void> {
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const probe = new Redis({ port: this.port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
    probe.on("error", () => {}); // refusals while the server starts are expected
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await probe.connect();
          if ((await probe.ping()) === "PONG") return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      throw new Error(`redis-server on port ${this.port} did not answer within 5 s`);
    } finally {
      probe.disconnect();
    }
  }

  /**
   * Stalls the server (SIGSTOP): its sockets stay open and the kernel still accepts connections,
   * but nothing is answered until {@link resume}.
   */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Kills the server at once (no shutdown, no save), and waits for the process to be gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}
