package dev.sluice.registry.etcd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.RegistryLayout;
import dev.sluice.registry.RegistryPaths;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A watch response larger than one gRPC message (4 MiB by default): etcd sends the events a watch
 * catches up on in one response, and values of 1.4 MB (etcd's default limit is 1.5 MiB) make it too
 * large after three. Resuming from the same revision would meet the same response for ever; the
 * agent reads the keys again in pages and watches on, so a later DISABLED still arrives.
 */
class EtcdLargeWatchResponseTest {

  /** The agent's watch client, holding back the first watches until the test lets them start. */
  static final class HeldWatches implements UnaryOperator<Watch> {
    final CountDownLatch asked = new CountDownLatch(1);
    final CountDownLatch go = new CountDownLatch(1);

    @Override
    public Watch apply(Watch real) {
      return new Watch() {
        @Override
        public Watcher watch(ByteSequence key, WatchOption option, Listener listener) {
          asked.countDown();
          try {
            go.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return real.watch(key, option, listener);
        }

        @Override
        public void requestProgress() {
          real.requestProgress();
        }

        @Override
        public void close() {
          real.close();
        }
      };
    }
  }

  private final RegistryPaths paths =
      RegistryLayout.V5.paths("large-" + UUID.randomUUID().toString().substring(0, 8), "app");

  @Test
  void aWatchResponseTooLargeForOneMessageDoesNotStopTheWatch() throws Exception {
    HeldWatches watches = new HeldWatches();
    try (EtcdCluster cluster = EtcdCluster.single();
        Client operator = cluster.client(null);
        EtcdRegistry registry =
            new EtcdRegistry(
                new EtcdSettings(cluster.endpoints(), false, null, null, 5000, 6000),
                paths,
                paths.instancesRoot() + "/10.0.0.1@1@large",
                watches)) {
      EtcdWatchFaultTest.Heard heard = new EtcdWatchFaultTest.Heard();
      registry.start(heard);
      assertTrue(watches.asked.await(30, TimeUnit.SECONDS), "the watches were started");
      // Written after the agent's read and before its watches start: they catch up on all of it.
      byte[] large = new byte[1_400_000];
      Arrays.fill(large, (byte) 'b');
      for (int i = 0; i < 4; i++) {
        operator
            .getKVClient()
            .put(bytes(paths.datasourcePath("big", "b" + i)), ByteSequence.from(large))
            .get(30, TimeUnit.SECONDS);
      }
      String orders = paths.datasourcePath("shop", "orders");
      operator.getKVClient().put(bytes(orders), bytes("DISABLED")).get(10, TimeUnit.SECONDS);
      watches.go.countDown();
      assertTrue(registry.awaitInitialSync(30_000), "initial sync");
      heard.await(orders + "=DISABLED");
      String stock = paths.datasourcePath("shop", "stock");
      operator.getKVClient().put(bytes(stock), bytes("DISABLED")).get(10, TimeUnit.SECONDS);
      heard.await(stock + "=DISABLED");
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
