package dev.sluice.agent.recovery;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * The fleet leader's credential-free protocol probe of one endpoint (SPEC section 8): a TCP connect
 * and the server's greeting, within one timeout.
 *
 * <ul>
 *   <li>MySQL and MariaDB speak first: their handshake packet (protocol 10, or an error packet such
 *       as "too many connections") shows a live server. The probe then completes the handshake as a
 *       user that does not exist, so that the server counts an authentication failure, which never
 *       blocks the probing host, and not an interrupted handshake, which does after {@code
 *       max_connect_errors} of them (it would block the application on the same host).
 *   <li>PostgreSQL waits for the client: it answers an {@code SSLRequest} with {@code S} or {@code
 *       N} (or an error from a very old server).
 *   <li>Any other server: the TCP connect alone.
 * </ul>
 *
 * <p>Which it is the probe learns from the answers: an endpoint that never answered with a greeting
 * it knows is judged by the TCP connect; one that did (its {@link Protocol} passed back in) must
 * greet again, so that a hung server (it accepts connections, the kernel does, and says nothing) is
 * a failure. Never throws; blocks the calling thread for at most about the timeout.
 */
public final class EndpointProbe {

  /** What an endpoint answered with. */
  public enum Protocol {
    /** No greeting recognised (yet): judged by the TCP connect. */
    UNKNOWN,
    MYSQL,
    POSTGRESQL
  }

  /** The outcome of one probe. */
  public static final class Result {
    public final boolean alive;
    public final Protocol protocol;
    public final String detail;

    Result(boolean alive, Protocol protocol, String detail) {
      this.alive = alive;
      this.protocol = protocol;
      this.detail = detail;
    }

    @Override
    public String toString() {
      return (alive ? "alive" : "FAILED") + " (" + protocol + "): " + detail;
    }
  }

  /** How long the probe waits for a server that speaks first before it speaks itself. */
  static final int GREETING_WAIT_MS = 150;

  /** PostgreSQL's SSLRequest: length 8, code 80877103. */
  private static final byte[] SSL_REQUEST = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};

  /** The user the MySQL handshake is completed as; no such user is expected to exist. */
  static final String PROBE_USER = "sluice_probe";

  private static final int CLIENT_LONG_PASSWORD = 1;
  private static final int CLIENT_PROTOCOL_41 = 0x200;
  private static final int CLIENT_SECURE_CONNECTION = 0x8000;
  private static final int CLIENT_PLUGIN_AUTH = 0x80000;

  private EndpointProbe() {}

  /**
   * Probes {@code host:port} within {@code timeoutMs}. {@code known}: the protocol the endpoint
   * answered with before ({@link Protocol#UNKNOWN} when none).
   */
  public static Result probe(String host, int port, int timeoutMs, Protocol known) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      try {
        s.connect(new InetSocketAddress(host, port), timeoutMs);
      } catch (SocketTimeoutException e) {
        return new Result(false, known, "no TCP connect within " + timeoutMs + " ms");
      } catch (IOException e) {
        return new Result(false, known, "TCP connect failed: " + e.getMessage());
      }
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[512];
      // a server that speaks first (MySQL, MariaDB) greets at once; one known to wait for the
      // client (PostgreSQL) is not waited for
      int firstWait =
          known == Protocol.POSTGRESQL
              ? 0
              : known == Protocol.MYSQL ? left(deadline) : Math.min(GREETING_WAIT_MS, timeoutMs);
      int n = firstWait == 0 ? 0 : read(s, in, buf, firstWait);
      if (n > 0) {
        if (isMySqlGreeting(buf, n)) {
          quitAsUnknownUser(s, in, out, buf, n, deadline);
          return new Result(true, Protocol.MYSQL, "greeted (" + mySqlVersion(buf, n) + ")");
        }
        return judgedByTcp(known, "answered with an unknown greeting");
      }
      if (n < 0) {
        return known == Protocol.UNKNOWN
            ? new Result(true, Protocol.UNKNOWN, "TCP connect (closed without a greeting)")
            : new Result(false, known, "closed the connection without a greeting");
      }
      if (known == Protocol.MYSQL) {
        return new Result(false, known, "no greeting within " + timeoutMs + " ms");
      }
      out.write(SSL_REQUEST);
      out.flush();
      n = read(s, in, buf, left(deadline));
      if (n > 0 && (buf[0] == 'S' || buf[0] == 'N' || buf[0] == 'E')) {
        return new Result(
            true, Protocol.POSTGRESQL, "answered the SSLRequest with " + (char) buf[0]);
      }
      if (n > 0) {
        return judgedByTcp(known, "answered the SSLRequest with an unknown reply");
      }
      if (known == Protocol.POSTGRESQL) {
        return new Result(
            false,
            known,
            n < 0
                ? "closed the connection without answering the SSLRequest"
                : "no answer to the SSLRequest within " + timeoutMs + " ms");
      }
      return new Result(true, Protocol.UNKNOWN, "TCP connect (no greeting)");
    } catch (IOException e) {
      return known == Protocol.UNKNOWN
          ? new Result(true, Protocol.UNKNOWN, "TCP connect (then " + e.getMessage() + ")")
          : new Result(false, known, "failed after the TCP connect: " + e.getMessage());
    }
  }

  private static Result judgedByTcp(Protocol known, String what) {
    return known == Protocol.UNKNOWN
        ? new Result(true, Protocol.UNKNOWN, "TCP connect (" + what + ")")
        : new Result(false, known, what);
  }

  private static int left(long deadline) {
    return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
  }

  /** Bytes read within {@code waitMs}: 0 when none came, -1 when the server closed. */
  private static int read(Socket s, InputStream in, byte[] buf, int waitMs) throws IOException {
    s.setSoTimeout(Math.max(1, waitMs));
    try {
      return in.read(buf);
    } catch (SocketTimeoutException none) {
      return 0;
    }
  }

  /**
   * A MySQL packet with sequence id 0 whose payload is a protocol-10 handshake or an error packet,
   * and whose length is plausible.
   */
  static boolean isMySqlGreeting(byte[] b, int n) {
    if (n < 5) {
      return false;
    }
    int length = (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16;
    return b[3] == 0 && length > 0 && length < 16_384 && (b[4] == 0x0a || b[4] == (byte) 0xff);
  }

  private static String mySqlVersion(byte[] b, int n) {
    if (b[4] == (byte) 0xff) {
      return "an error packet";
    }
    int end = 5;
    while (end < n && b[end] != 0) {
      end++;
    }
    return "protocol 10, " + new String(b, 5, end - 5, StandardCharsets.ISO_8859_1);
  }

  /**
   * Answers a MySQL handshake as {@link #PROBE_USER} without a password and reads the server's
   * reply (an error, as a rule), so that the handshake ends as an authentication failure. An error
   * packet as greeting is answered by nobody: the server closes.
   */
  private static void quitAsUnknownUser(
      Socket s, InputStream in, OutputStream out, byte[] greeting, int n, long deadline)
      throws IOException {
    if (greeting[4] == (byte) 0xff) {
      return;
    }
    byte[] user = PROBE_USER.getBytes(StandardCharsets.US_ASCII);
    int capabilities =
        CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    byte[] plugin = "mysql_native_password".getBytes(StandardCharsets.US_ASCII);
    int payload = 4 + 4 + 1 + 23 + user.length + 1 + 1 + plugin.length + 1;
    byte[] p = new byte[4 + payload];
    p[0] = (byte) payload;
    p[1] = (byte) (payload >> 8);
    p[2] = (byte) (payload >> 16);
    p[3] = 1; // sequence id: the reply to the greeting
    int i = 4;
    p[i++] = (byte) capabilities;
    p[i++] = (byte) (capabilities >> 8);
    p[i++] = (byte) (capabilities >> 16);
    p[i++] = (byte) (capabilities >> 24);
    p[i++] = 0; // max packet size: 16 MiB
    p[i++] = 0;
    p[i++] = 0;
    p[i++] = 1;
    p[i++] = 33; // utf8_general_ci
    i += 23; // reserved
    System.arraycopy(user, 0, p, i, user.length);
    i += user.length + 1; // NUL-terminated
    p[i++] = 0; // no auth response
    System.arraycopy(plugin, 0, p, i, plugin.length);
    out.write(p);
    out.flush();
    // the server's verdict (access denied, or an auth switch the probe does not follow)
    read(s, in, new byte[256], left(deadline));
  }
}
