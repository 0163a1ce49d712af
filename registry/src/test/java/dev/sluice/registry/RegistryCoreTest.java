package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The parts both registry backends share, each on its own, without a registry server. */
class RegistryCoreTest {

  @Test
  void lifecycleStartsOnceAndClosesOnce() {
    RegistryLifecycle lifecycle = new RegistryLifecycle();
    assertFalse(lifecycle.running());
    lifecycle.start();
    assertTrue(lifecycle.running());
    assertThrows(IllegalStateException.class, lifecycle::start);
    assertTrue(lifecycle.close(), "the first close ends a started registry");
    assertFalse(lifecycle.close(), "a second close has nothing to release");
    assertFalse(lifecycle.running());
    assertThrows(IllegalStateException.class, lifecycle::start);
  }

  @Test
  void closingALatentRegistryReleasesNothingAndForbidsStarting() {
    RegistryLifecycle lifecycle = new RegistryLifecycle();
    assertFalse(lifecycle.close());
    assertThrows(IllegalStateException.class, lifecycle::start);
  }

  /** A backend whose creates fail while {@code failing} is set; runs work on the caller. */
  private static final class Backend {
    final AtomicBoolean connected = new AtomicBoolean(true);
    final AtomicBoolean failing = new AtomicBoolean();
    final List<String> attempts = new ArrayList<>();
    final DatasourceNodes nodes =
        new DatasourceNodes(
            Runnable::run,
            new Faults(LoggerFactory.getLogger(RegistryCoreTest.class)),
            connected::get,
            (path, value) -> {
              attempts.add(value.isEmpty() ? path : path + "=" + value);
              return !failing.get();
            });
  }

  @Test
  void aDatasourceNodeIsCreatedOnceAndAFailedCreateIsRetriedOnReconnect() {
    Backend b = new Backend();
    b.nodes.ensure("/ds/a");
    assertEquals(List.of("/ds/a"), b.attempts);
    b.nodes.retryPending();
    assertEquals(List.of("/ds/a"), b.attempts, "nothing pending after a create");

    b.failing.set(true);
    b.nodes.ensure("/ds/b");
    b.failing.set(false);
    b.nodes.retryPending();
    assertEquals(List.of("/ds/a", "/ds/b", "/ds/b"), b.attempts);
    b.nodes.retryPending();
    assertEquals(3, b.attempts.size(), "created on the retry, so no more attempts");
  }

  @Test
  void anEnsuredNodeIsCreatedWithItsValueAndRetriedWithIt() {
    Backend b = new Backend();
    b.failing.set(true);
    b.nodes.ensure("/meta/e", "db1:3306/shop");
    b.failing.set(false);
    b.nodes.retryPending();
    assertEquals(List.of("/meta/e=db1:3306/shop", "/meta/e=db1:3306/shop"), b.attempts);
    b.nodes.deleted("/meta/e");
    assertEquals(2, b.attempts.size(), "not a datasource node: not created again after a delete");
  }

  @Test
  void whileDisconnectedNothingIsCreatedUntilTheConnectionIsBack() {
    Backend b = new Backend();
    b.connected.set(false);
    b.nodes.ensure("/ds/a");
    assertEquals(List.of(), b.attempts);
    b.connected.set(true);
    b.nodes.retryPending();
    assertEquals(List.of("/ds/a"), b.attempts);
  }

  @Test
  void onlyADeletedNodeThisJvmMetIsCreatedAgain() {
    Backend b = new Backend();
    b.nodes.ensure("/ds/a");
    b.nodes.deleted("/ds/a");
    b.nodes.deleted("/ds/other");
    assertEquals(List.of("/ds/a", "/ds/a"), b.attempts);
  }

  @Test
  void anOwnSessionIsNotForeignAndSharingIsNewsOnce() {
    InstanceOwners owners = new InstanceOwners();
    owners.adopt(7);
    assertFalse(owners.foreign(0, 9), "no owner");
    assertFalse(owners.foreign(9, 9), "the current session");
    assertFalse(owners.foreign(7, 9), "an earlier session of ours");
    assertTrue(owners.foreign(8, 9));
    assertTrue(owners.share(8));
    assertFalse(owners.share(8));
    assertTrue(owners.share(5));
  }

  @Test
  void theInstanceValueIsRememberedAndForgottenOnAnOperatorsDelete() throws Exception {
    List<String> reported = new ArrayList<>();
    ValueReporter values = new ValueReporter("/i");
    values.listenTo(
        new RegistryListener() {
          @Override
          public void instanceValue(String value) {
            reported.add(String.valueOf(value));
          }

          @Override
          public void datasourceValue(String path, String value) {
            reported.add(path + "=" + value);
          }

          @Override
          public void connection(boolean connected) {}
        });
    values.instanceValue("DISABLED");
    assertEquals("DISABLED", values.lastKnownValue());
    values.instanceDeleted();
    assertEquals("", values.lastKnownValue());
    values.datasourceValue("/ds/a", "DISABLED");
    values.datasourceValue("/ds/a", null);
    assertEquals(List.of("DISABLED", "null", "/ds/a=DISABLED", "/ds/a=null"), reported);
    values.seen("/ds/a", 5);
    values.awaitSeen("/ds/a", 5, 1, "test");
    assertThrows(RegistryException.class, () -> values.awaitSeen("/ds/a", 6, 1, "test"));
  }
}
