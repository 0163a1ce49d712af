package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.registry.Poll;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupRoutingTest {

  private static final String KEY = "/mysql/master/orders";

  private final DatasourceCatalog catalog =
      new DatasourceCatalog(List.of(), n -> "/ns/" + n.schema() + "/" + n.name(), n -> "/ns/" + n);
  private final Governor governor = new Governor(0, 0, catalog, (a, b) -> {});

  GroupRoutingTest() {
    governor.initialSyncDone();
  }

  @AfterEach
  void close() {
    governor.close();
  }

  private GroupRouting routing(long failoverWaitMs) {
    GroupRouting r =
        new GroupRouting(
            List.of(
                new RoutingGroup("orders", "db:3306", KEY, failoverWaitMs),
                new RoutingGroup("v6", "[fd00::1]:5432", "/ns/states/groups/v6/primary", 0)));
    governor.routing(r);
    return r;
  }

  @Test
  void withoutGroupsNothingIsRouted() {
    String url = "jdbc:mysql://db:3306/orders";
    assertFalse(governor.routes());
    assertSame(url, governor.route(null, url, null));
  }

  @Test
  void onlyTheAddressIsRoutedAndOnlyItsHostAndPortChange() {
    routing(0);
    governor.primary("orders", "m1:3307", 5);
    governor.primary("v6", "[fd00::2]:5433", 1);
    assertTrue(governor.routes());
    assertEquals(
        "jdbc:mysql://u:p@m1:3307/orders?useSSL=false",
        governor.route(null, "jdbc:mysql://u:p@db:3306/orders?useSSL=false", null));
    assertEquals(
        "jdbc:mysql://m1:3307/orders", governor.route(null, "jdbc:mysql://DB/orders", null));
    assertEquals(
        "jdbc:postgresql://[fd00::2]:5433/app",
        governor.route(null, "jdbc:postgresql://[FD00::1]/app", null));
    for (String other :
        List.of(
            "jdbc:mysql://db:3307/orders",
            "jdbc:mysql://db2:3306/orders",
            "jdbc:mysql://m1:3307/orders",
            "jdbc:mysql://db:3306,db2:3306/orders",
            "jdbc:h2:mem:db",
            "not a url")) {
      assertSame(other, governor.route(null, other, null), other);
    }
  }

  @Test
  void anOlderRevisionNeverReplacesANewerOne() {
    GroupRouting r = routing(0);
    governor.primary("orders", "m2:3306", 10);
    governor.primary("orders", "m1:3306", 9);
    assertEquals("m2:3306", r.primaryOf("orders"));
    assertEquals(10, r.group("orders").revision());
    governor.primary("orders", null, 8);
    assertEquals("m2:3306", r.primaryOf("orders"));
    governor.primary("orders", null, 11);
    assertEquals(null, r.primaryOf("orders"));
    governor.primary("orders", "m1:3306", 10);
    assertEquals(null, r.primaryOf("orders"));
  }

  @Test
  void withNoPrimaryAConnectWaitsThenIsRefusedNamingTheKey() {
    routing(300);
    long start = System.nanoTime();
    Object refused = governor.route(null, "jdbc:mysql://db:3306/orders", null);
    long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    SQLTransientConnectionException e =
        assertInstanceOf(SQLTransientConnectionException.class, refused);
    assertEquals("08004", e.getSQLState());
    assertTrue(e.getMessage().contains(KEY), e.getMessage());
    assertTrue(e.getMessage().contains("orders"), e.getMessage());
    assertTrue(waitedMs >= 300, "waited " + waitedMs + " ms");
  }

  @Test
  void aDriverThatDeclinesTheUrlNeitherWaitsNorIsRefused() {
    routing(30_000);
    java.sql.Driver declining =
        (java.sql.Driver)
            Proxy.newProxyInstance(
                GroupRoutingTest.class.getClassLoader(),
                new Class<?>[] {java.sql.Driver.class},
                (proxy, method, args) -> method.getName().equals("acceptsURL") ? false : null);
    String url = "jdbc:mysql://db:3306/orders";
    long start = System.nanoTime();
    assertSame(url, governor.route(declining, url, null));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms < 5_000, "did not wait for a primary: " + ms + " ms");
  }

  @Test
  void aConnectThatWaitedGoesToThePrimaryThatAppeared() throws Exception {
    routing(30_000);
    CountDownLatch started = new CountDownLatch(1);
    CompletableFuture<Object> routed =
        CompletableFuture.supplyAsync(
            () -> {
              started.countDown();
              return governor.route(null, "jdbc:mysql://db:3306/orders", null);
            });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    assertFalse(routed.isDone());
    governor.primary("orders", "m3:3306", 1);
    assertEquals("jdbc:mysql://m3:3306/orders", routed.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aFailoverAbortsTheConnectionsRoutedToTheOldPrimaryOnly() {
    routing(0);
    governor.primary("orders", "m1:3306", 1);
    String url = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
    AtomicBoolean routedClosed = new AtomicBoolean();
    governor.connected(url, connection(routedClosed));
    String direct = "jdbc:mysql://m1:3306/orders";
    assertSame(direct, governor.route(null, direct, null));
    AtomicBoolean directClosed = new AtomicBoolean();
    governor.connected(direct, connection(directClosed));

    governor.primary("orders", "m2:3306", 2);
    Poll.until("the routed connection aborted", Duration.ofSeconds(10), routedClosed::get, b -> b);
    assertFalse(directClosed.get(), "a connection naming the member itself was not routed");
    assertEquals(
        "jdbc:mysql://m2:3306/orders", governor.route(null, "jdbc:mysql://db:3306/orders", null));
  }

  @Test
  void aConnectionRoutedInsideAWrappingDriverIsAbortedByAFailover() {
    routing(0);
    governor.primary("orders", "m1:3306", 1);
    // the wrapper's URL names no group the agent can rewrite; the wrapped driver's connect does
    String outer = "jdbc:unknown-wrapper:mysql://db/orders";
    assertSame(outer, governor.route(null, outer, null));
    String inner = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
    assertEquals("jdbc:mysql://m1:3306/orders", inner);
    AtomicBoolean closed = new AtomicBoolean();
    governor.connectedThrough(outer, inner, connection(closed));

    governor.primary("orders", "m2:3306", 2);
    Poll.until("the wrapped connection aborted", Duration.ofSeconds(10), closed::get, b -> b);
  }

  @Test
  void connectionsToAnEarlierPrimaryAreAbortedAfterAGapWithoutOne() {
    GroupRouting r = routing(0);
    governor.primary("orders", "m1:3306", 1);
    String url = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
    AtomicBoolean closed = new AtomicBoolean();
    governor.connected(url, connection(closed));
    governor.primary("orders", null, 2);
    assertEquals(null, r.primaryOf("orders"));
    governor.primary("orders", "m1:3306", 3);
    String again = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
    AtomicBoolean closedAgain = new AtomicBoolean();
    governor.connected(again, connection(closedAgain));
    governor.primary("orders", "m2:3306", 4);
    // both went to m1: both are aborted once m2 is the primary
    Poll.until(
        "both routed connections aborted",
        Duration.ofSeconds(10),
        () -> closed.get() && closedAgain.get(),
        b -> b);
  }

  private static GroupRouting readRouting(List<String> replicas, boolean refuse) {
    GroupRouting r =
        new GroupRouting(
            List.of(new RoutingGroup("orders", "db:3306", KEY, 0, "db-ro:3306", replicas, refuse)));
    r.apply("orders", "m1:3306", 1);
    return r;
  }

  @Test
  void readsGoRoundRobinOverTheEnabledReplicas() {
    GroupRouting r = readRouting(List.of("r1:3306", "r2:3306", "r3:3306"), false);
    String url = "jdbc:mysql://db-ro:3306/orders";
    List<String> seen = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      seen.add((String) r.route(url, u -> u.contains("r2:")));
    }
    assertEquals(
        List.of(
            "jdbc:mysql://r1:3306/orders",
            "jdbc:mysql://r3:3306/orders",
            "jdbc:mysql://r3:3306/orders",
            "jdbc:mysql://r1:3306/orders",
            "jdbc:mysql://r3:3306/orders",
            "jdbc:mysql://r3:3306/orders"),
        seen);
    assertEquals("jdbc:mysql://m1:3306/orders", r.route("jdbc:mysql://db:3306/orders", u -> true));
  }

  @Test
  void withEveryReplicaDisabledReadsFallBackToThePrimaryOrAreRefused() {
    String url = "jdbc:mysql://db-ro:3306/orders";
    assertEquals(
        "jdbc:mysql://m1:3306/orders",
        readRouting(List.of("r1:3306", "r2:3306"), false).route(url, u -> true));
    assertEquals(
        "jdbc:mysql://m1:3306/orders", readRouting(List.of(), false).route(url, u -> false));
    for (List<String> replicas : List.of(List.of("r1:3306"), List.<String>of())) {
      SQLTransientConnectionException e =
          assertInstanceOf(
              SQLTransientConnectionException.class,
              readRouting(replicas, true).route(url, u -> true));
      assertEquals("08004", e.getSQLState());
      assertTrue(e.getMessage().contains("group orders"), e.getMessage());
    }
  }

  @Test
  void aReadRoutedToAReplicaIsNotAbortedByAFailover() {
    governor.routing(readRouting(List.of("r1:3306"), false));
    String url = (String) governor.route(null, "jdbc:mysql://db-ro:3306/orders", null);
    assertEquals("jdbc:mysql://r1:3306/orders", url);
    AtomicBoolean replicaClosed = new AtomicBoolean();
    governor.connected(url, connection(replicaClosed));
    String write = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
    AtomicBoolean primaryClosed = new AtomicBoolean();
    governor.connected(write, connection(primaryClosed));
    governor.primary("orders", "m2:3306", 2);
    Poll.until("the write connection aborted", Duration.ofSeconds(10), primaryClosed::get, b -> b);
    assertFalse(replicaClosed.get());
  }

  /**
   * With no grace period, a failover is announced (the Group MXBean hears of it through the
   * callback) once the connections routed to the old primary are aborted, also where the driver
   * takes a while over it, so whoever sees the new primary finds them unusable; the call itself
   * returns at once, holding up no later change.
   */
  @Test
  void aFailoverIsAnnouncedOnceTheConnectionsToTheOldPrimaryAreAborted() throws Exception {
    routing(0);
    governor.primary("orders", "m1:3306", 1);
    AtomicBoolean[] closed = new AtomicBoolean[3];
    for (int i = 0; i < closed.length; i++) {
      String url = (String) governor.route(null, "jdbc:mysql://db:3306/orders", null);
      closed[i] = new AtomicBoolean();
      governor.connected(url, connection(closed[i], 200));
    }
    CompletableFuture<String> announced = new CompletableFuture<>();
    governor.primary(
        "orders",
        PrimaryReading.primary("m2:3306", 2),
        (was, now) -> {
          long open = java.util.Arrays.stream(closed).filter(c -> !c.get()).count();
          announced.complete(was + " -> " + now + ", " + open + " still open");
        });
    assertFalse(announced.isDone(), "the call returned before the aborts were done");
    assertEquals("m1:3306 -> m2:3306, 0 still open", announced.get(10, TimeUnit.SECONDS));
  }

  /** A driver connection that records being aborted or closed. */
  private static Connection connection(AtomicBoolean closed) {
    return connection(closed, 0);
  }

  /** The same, whose abort and close take {@code slowMs} (an interrupt ends the wait). */
  static Connection connection(AtomicBoolean closed, long slowMs) {
    return (Connection)
        Proxy.newProxyInstance(
            GroupRoutingTest.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "abort":
                case "close":
                  Thread.sleep(slowMs); // a driver that takes a while over it
                  closed.set(true);
                  return null;
                case "isClosed":
                  return closed.get();
                case "hashCode":
                  return System.identityHashCode(proxy);
                case "equals":
                  return proxy == args[0];
                case "isWrapperFor":
                  return false;
                case "toString":
                  return "test connection";
                default:
                  return null;
              }
            });
  }
}
