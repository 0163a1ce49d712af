package dev.sluice.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The unmodified sample app ({@code test-apps/pool-app}) in a JVM of its own, driven through its
 * command protocol; shows what it answers and what the agent logs.
 */
final class SampleApp implements AutoCloseable {
  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  private final PrintStream out;

  SampleApp(List<String> command, PrintStream out) throws Exception {
    this.process = new ProcessBuilder(command).start();
    this.out = out;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    pump(
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)),
        true);
    pump(
        new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)),
        false);
    next();
  }

  private void pump(BufferedReader in, boolean stdout) {
    Thread t =
        new Thread(
            () -> {
              try {
                for (String line; (line = in.readLine()) != null; ) {
                  if (stdout && line.startsWith("REPLY ")) {
                    replies.add(line.substring(6));
                  } else if (line.contains("[sluice]")) {
                    out.println("      agent | " + line.substring(line.indexOf("[sluice]") + 9));
                  }
                }
              } catch (IOException ignored) {
                // the app is gone
              }
            });
    t.setDaemon(true);
    t.start();
  }

  long pid() {
    return process.pid();
  }

  private String next() throws InterruptedException {
    String reply = replies.poll(30, TimeUnit.SECONDS);
    if (reply == null) {
      throw new IllegalStateException("the sample app did not answer");
    }
    return reply;
  }

  /**
   * Sends {@code command}, shows its outcome as {@code what: OK (n ms)} or {@code what: FAILED
   * after n ms: ...} and returns the reply ({@code OK <ms> <result>} or {@code ERR <ms> ...}).
   */
  String ask(String command, String what) throws Exception {
    String reply = send(command);
    String[] parts = reply.split(" ", 3);
    String shown =
        parts[0].equals("OK")
            ? "OK (" + parts[1] + " ms)"
            : "FAILED after " + parts[1] + " ms: " + (parts.length > 2 ? parts[2] : "");
    out.println("      app   | " + what + ": " + shown);
    return reply;
  }

  /** Sends {@code command}, which must succeed, shows {@code what: <its result>} and returns it. */
  String report(String command, String what) throws Exception {
    String result = result(command);
    out.println("      app   | " + what + ": " + result);
    return result;
  }

  /** Sends {@code command}, which must succeed, and returns its result without showing it. */
  String result(String command) throws Exception {
    String reply = send(command);
    String[] parts = reply.split(" ", 3);
    if (!parts[0].equals("OK")) {
      throw new IllegalStateException("the sample app failed '" + command + "': " + reply);
    }
    return parts.length > 2 ? parts[2] : "";
  }

  private String send(String command) throws Exception {
    stdin.write(command + "\n");
    stdin.flush();
    return next();
  }

  void exit() throws Exception {
    stdin.write("exit\n");
    stdin.flush();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the sample app did not exit");
    }
  }

  @Override
  public void close() {
    process.destroy();
  }
}
