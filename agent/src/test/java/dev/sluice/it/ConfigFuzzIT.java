package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.config.MalformedConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Malformed configuration end to end: app JVMs started with random broken agent arguments (the unit
 * test {@code AgentConfigTest} runs thousands more without a JVM each). The app always starts,
 * connects and exits normally; each problem is one log line naming its key; the secret is never
 * shown.
 */
class ConfigFuzzIT extends WithZooKeeperAndH2 {

  @Test
  void appsStartAndWorkWhateverTheArguments() throws Exception {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int run = 0; run < 6; run++) {
      String args = MalformedConfig.randomArgs(rnd, false) + ",registry.initial-sync-ms=500";
      String where = "seed " + seed + ", run " + run + ": " + shorten(args);
      try (AppProcess app = AppProcess.jdbcApp(h2.url("config")).agentArgs(args).start()) {
        AppProcess.Reply r = app.send("connect");
        assertTrue(r.ok, where + " -> " + r + "\n" + app.output());
        assertEquals(0, app.exit(), where);
        String out = app.output();
        assertFalse(out.contains(MalformedConfig.SECRET), where + ": the secret shows:\n" + out);
        assertFalse(out.contains("Exception in thread"), where + "\n" + out);
        List<String> problems =
            app.agentLog().stream()
                .filter(l -> l.contains("SluiceAgent - configuration: "))
                .map(l -> l.substring(l.indexOf("configuration: ")))
                .collect(Collectors.toList());
        assertEquals(new HashSet<>(problems).size(), problems.size(), where + ": " + problems);
        for (String p : problems) {
          assertTrue(
              p.startsWith("configuration: invalid ")
                  || p.startsWith("configuration: unknown key '")
                  || p.startsWith("configuration: agent argument '"),
              where + ": " + p);
        }
      }
    }
  }

  private static String shorten(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}
