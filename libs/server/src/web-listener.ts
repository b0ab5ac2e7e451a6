// The web port: one TCP listener that speaks HTTP/1.1 (browsers, curl, Connect
// JSON, gRPC-Web) and cleartext HTTP/2 (Connect and gRPC streaming, reflection
// for buf curl). The first bytes of a connection decide: the HTTP/2 preface
// starts with "PRI", no HTTP/1 request line does.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Socket } from "node:net";
import { useStreamTables } from "./stream-table.js";

type RequestHandler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

export interface WebListener {
  port: number;
  /** Stops accepting; lets open requests finish for up to `graceMs`, then closes every connection. */
  close(graceMs: number): Promise<void>;
}

export async function listenWeb(handler: RequestHandler, host: string, port: number): Promise<WebListener> {
  const h1 = http.createServer(handler as http.RequestListener);
  const h2 = http2.createServer({}, handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.Http2Session>();
  // h1 never listen()s itself (connections are handed to it), so Node's own
  // idle-connection tracking is not set up: count open requests per socket here.
  const openRequests = new Map<Socket, number>();
  let closing = false;
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    openRequests.set(socket, (openRequests.get(socket) ?? 0) + 1);
    if (closing) res.setHeader("connection", "close");
    res.once("close", () => {
      const left = (openRequests.get(socket) ?? 1) - 1;
      openRequests.set(socket, left);
      if (closing && left === 0) socket.end();
    });
  });
  const h1Sockets = new Set<Socket>();
  h2.on("session", (session) => {
    useStreamTables(session);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const route = () => {
      const chunk: Buffer | null = socket.read();
      if (chunk === null) return socket.once("readable", route);
      socket.unshift(chunk);
      if (chunk.length < 3 && !socket.readableEnded) return socket.once("readable", route);
      if (chunk.subarray(0, 3).toString("latin1") === "PRI") return h2.emit("connection", socket);
      h1Sockets.add(socket);
      socket.once("close", () => h1Sockets.delete(socket));
      h1.emit("connection", socket);
    };
    socket.once("readable", route);
    socket.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  return {
    port: address.port,
    async close(graceMs) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close(); // GOAWAY: open streams finish
      // HTTP/1 keep-alive sockets close now if idle, else after their current response.
      for (const socket of h1Sockets) if (!openRequests.get(socket)) socket.end();
      const deadline = setTimeout(() => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}
