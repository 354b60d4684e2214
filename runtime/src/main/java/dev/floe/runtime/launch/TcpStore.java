package dev.floe.runtime.launch;

import dev.floe.api.FloeException;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The rendezvous key-value store, as torch's TCPStore: rank 0 serves it on {@code MASTER_ADDR:MASTER_PORT}, every rank
 * (rank 0 too) is a client. {@code set} stores bytes under a key; {@code get} blocks until the key is set. The wire is
 * a byte opcode, a UTF key and a length-prefixed value, one request at a time per connection.
 */
public final class TcpStore {
    private static final byte SET = 'S', GET = 'G';
    private static final int MAX_VALUE = 1 << 20;

    private TcpStore() {
    }

    /** The server half: a thread per connection over one map. */
    public static final class Server implements AutoCloseable {
        private final ServerSocket socket;
        private final Map<String, byte[]> values = new HashMap<>();
        private volatile boolean closed;

        /** Listens on {@code port} of {@code address} (port 0: an ephemeral port, see {@link #port()}). */
        public Server(String address, int port) {
            try {
                socket = new ServerSocket();
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(address), port));
            } catch (IOException e) {
                throw new FloeException("rendezvous: cannot listen on " + address + ":" + port + ": " + e.getMessage(), e);
            }
            Thread.ofPlatform().daemon().name("tcp-store-accept").start(this::accept);
        }

        public int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!closed) {
                try {
                    Socket s = socket.accept();
                    Thread.ofVirtual().name("tcp-store-client").start(() -> serve(s));
                } catch (IOException e) {
                    if (!closed) System.getLogger("dev.floe.runtime").log(System.Logger.Level.WARNING, "rendezvous store: " + e);
                }
            }
        }

        private void serve(Socket s) {
            try (s; DataInputStream in = new DataInputStream(s.getInputStream()); DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
                while (!closed) {
                    byte op;
                    try {
                        op = in.readByte();
                    } catch (EOFException e) {
                        return;
                    }
                    String key = in.readUTF();
                    if (op == SET) {
                        byte[] value = readValue(in);
                        synchronized (values) {
                            values.put(key, value);
                            values.notifyAll();
                        }
                        out.writeByte(SET);
                    } else if (op == GET) {
                        byte[] value;
                        synchronized (values) {
                            while ((value = values.get(key)) == null && !closed) values.wait(1000);
                        }
                        if (value == null) return;
                        out.writeInt(value.length);
                        out.write(value);
                    } else {
                        return; // not our protocol: drop the connection
                    }
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the client went away; its own side reports
            }
        }

        @Override
        public void close() {
            closed = true;
            synchronized (values) {
                values.notifyAll();
            }
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** The client half: one connection, requests in turn. */
    public static final class Client implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;
        private final String where;

        /** Connects, retrying until {@code timeout} (rank 0 may not be listening yet). */
        public Client(String address, int port, Duration timeout) {
            where = address + ":" + port;
            long deadline = System.nanoTime() + timeout.toNanos();
            IOException last = null;
            Socket connected = null;
            while (connected == null && System.nanoTime() < deadline) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress(address, port), (int) Math.max(1, Math.min(1000, timeout.toMillis())));
                    s.setSoTimeout((int) Math.max(1, timeout.toMillis()));
                    connected = s;
                } catch (IOException e) {
                    last = e;
                    try {
                        s.close();
                        Thread.sleep(50);
                    } catch (IOException | InterruptedException ignored) {
                        if (Thread.interrupted()) Thread.currentThread().interrupt();
                    }
                }
            }
            if (connected == null) {
                throw new FloeException("rendezvous: no store at " + where + " (MASTER_ADDR, MASTER_PORT) within "
                        + timeout.toSeconds() + " s: " + (last == null ? "timed out" : last.getMessage()));
            }
            socket = connected;
            try {
                in = new DataInputStream(socket.getInputStream());
                out = new DataOutputStream(socket.getOutputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public void set(String key, byte[] value) {
            if (value.length > MAX_VALUE) throw new IllegalArgumentException("rendezvous: value of " + key + " is over " + MAX_VALUE + " bytes");
            request(key, () -> {
                out.writeByte(SET);
                out.writeUTF(key);
                out.writeInt(value.length);
                out.write(value);
                out.flush();
                if (in.readByte() != SET) throw new IOException("unexpected reply");
                return null;
            });
        }

        /** The value of {@code key}, waiting for another rank to set it (up to the connection's timeout). */
        public byte[] get(String key) {
            return request(key, () -> {
                out.writeByte(GET);
                out.writeUTF(key);
                out.flush();
                return readValue(in);
            });
        }

        private interface Io<T> {
            T run() throws IOException;
        }

        private <T> T request(String key, Io<T> io) {
            try {
                return io.run();
            } catch (SocketTimeoutException e) {
                throw new FloeException("rendezvous: timed out waiting for '" + key + "' from the store at " + where
                        + " (did every rank start?)", e);
            } catch (IOException e) {
                throw new FloeException("rendezvous: the store at " + where + " failed on '" + key + "': " + e.getMessage(), e);
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private static byte[] readValue(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_VALUE) throw new IOException("value length " + n + " out of range");
        byte[] v = new byte[n];
        in.readFully(v);
        return v;
    }
}
