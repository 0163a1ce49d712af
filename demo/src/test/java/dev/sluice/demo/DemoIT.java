package dev.sluice.demo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** The README's first command runs to its end and shows the cut-off and the recovery. */
class DemoIT {

  @Test
  void theDemoNarratesCutOffAndRecoveryAndEndsByItself() throws Exception {
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
    assertTrue(text.trim().endsWith("Demo finished."), text);
  }
}
