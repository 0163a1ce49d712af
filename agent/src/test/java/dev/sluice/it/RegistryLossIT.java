package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code on-registry-loss=cut-off}: without a registry session for {@code registry.loss-grace-ms}
 * all database access is refused, and restored when the session is back. The default ({@code keep})
 * goes on with the last known state.
 */
class RegistryLossIT {

  @Test
  void cutOffPolicyRefusesAccessWhileTheRegistryIsGone() throws Exception {
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        H2TcpServer h2 = new H2TcpServer();
        AppProcess cutOff =
            AppProcess.jdbcApp(h2.url("loss"))
                .agentArgs(
                    InstanceCutOffIT.registryArgsFor(zk)
                        + ",on-registry-loss=cut-off,registry.loss-grace-ms=1000")
                .start();
        AppProcess keep =
            AppProcess.jdbcApp(h2.url("loss"))
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
                .start()) {
      InstanceCutOffIT.instanceNode(zk, cutOff);
      InstanceCutOffIT.instanceNode(zk, keep);
      assertTrue(cutOff.send("connect").ok);

      zk.stop();
      AppProcess.Reply refused = InstanceCutOffIT.awaitRefused(cutOff, "connect");
      assertTrue(refused.text.contains("no session with the registry"), refused::toString);
      assertTrue(refused.text.contains("on-registry-loss=cut-off"), refused::toString);
      assertTrue(keep.send("connect").ok, "keep goes on with the last known state");

      zk.restart();
      InstanceCutOffIT.awaitAllowed(cutOff, "connect");
    }
  }
}
