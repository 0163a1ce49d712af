package dev.sluice.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's first command runs to its end and shows the cut-off and the recovery, then the app's
 * writes following a primary switch written as orchestrator writes it.
 */
class DemoIT {

  @Test
  void theDemoNarratesCutOffRecoveryAndFailoverAndEndsByItself() throws Exception {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    new Demo(Paths.get(System.getProperty("sluice.root", "..")), out).run();
    String text = buffer.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("the app borrows again: FAILED after"), text);
    assertTrue(
        text.contains("java.sql.SQLTransientConnectionException 08004 Sluice: instance"), text);
    assertTrue(text.contains("the connection opened earlier: FAILED"), text);
    assertTrue(
        text.contains("enable() returned; the node now holds '' and State is ENABLED"), text);
    assertTrue(text.contains("the node holds 'DISABLED'"), text);
    assertTrue(text.contains("the app recovers: OK"), text);
    assertTrue(text.contains("Its instance node is gone: exists("), text);
    assertTrue(text.contains(") = false"), text);

    // the failover act: the writes land on db1, then on db2 only, then on db1 again
    String landOn = "The app's transfers land on %s: db1's ledger holds (\\d+), db2's (\\d+)";
    long[] beforeSwitch = numbers(text, String.format(landOn, "db1"));
    assertTrue(beforeSwitch[0] > 0, text);
    assertEquals(0, beforeSwitch[1], text);
    Matcher announced =
        Pattern.compile(
                "The agent applied it \\d+ ms after the write: sluice:type=Group,name=shop"
                    + " announced Primary (\\S+) → (\\S+)")
            .matcher(text);
    assertTrue(announced.find(), text);
    assertTrue(text.contains("db2 (" + announced.group(2) + ")"), "to db2\n" + text);
    assertTrue(text.contains("db1 (" + announced.group(1) + ")"), "from db1\n" + text);
    numbers(text, "The first transfer landed on db2 (\\d+) ms after the write");
    long db1Final =
        numbers(text, "connections to db1 were aborted; db1's ledger stops at (\\d+)")[0];
    assertTrue(text.contains(" → Failovers = 1, LastFailover = 20"), text);
    long[] afterSwitch = numbers(text, String.format(landOn, "db2"));
    assertEquals(db1Final, afterSwitch[0], "no transfer landed on db1 after the switch\n" + text);
    assertTrue(afterSwitch[1] > 0, text);
    numbers(text, "the first transfer landed on db1 again (\\d+) ms after it \\(Failovers = 2\\)");
    long[] stopped = numbers(text, "the app stops its transfers: acked=(\\d+) failed=(\\d+)");
    long[] end =
        numbers(
            text,
            "db1's ledger holds (\\d+) and db2's (\\d+): (\\d+) transfers; the"
                + " app acknowledged (\\d+), (\\d+) of them in neither ledger");
    assertTrue(end[0] > db1Final, text);
    assertEquals(stopped[0], end[3], text);
    assertEquals(0, end[4], "every acknowledged transfer is in a ledger\n" + text);
    // a transfer whose commit was cut off in flight may have committed: in doubt, never more
    assertTrue(
        end[2] >= end[3] && end[2] <= end[3] + stopped[1],
        "the ledgers hold the acknowledged transfers and at most the failed ones besides\n" + text);
    assertTrue(text.contains("The app exited normally"), text);
    assertTrue(text.trim().endsWith("Demo finished."), text);
  }

  /** The numbers {@code regex}'s groups match in {@code text}; fails if it does not match. */
  private static long[] numbers(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), () -> "no line matching " + regex + " in\n" + text);
    long[] out = new long[m.groupCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Long.parseLong(m.group(i + 1));
    }
    return out;
  }
}
