package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.governance.PrimaryReading;
import java.util.List;
import org.junit.jupiter.api.Test;

class PatroniKeysTest {

  static final String P = "/service/pg";

  static String member(String hostPort, String role, String state) {
    return "{\"conn_url\":\"postgres://"
        + hostPort
        + "/postgres\",\"api_url\":\"http://x:8008/patroni\",\"state\":\""
        + state
        + "\",\"role\":\""
        + role
        + "\",\"version\":\"3.0.2\",\"xlog_location\":1}";
  }

  @Test
  void theLeaderKeyNamesTheMemberWhoseConnUrlIsThePrimary() {
    PatroniKeys k = new PatroniKeys("g", P);
    PrimaryReading r =
        k.changed(P + "/members/pg0", member("10.0.0.1:5432", "master", "running"), 5);
    assertNull(r.primary());
    assertTrue(r.absence().contains("/service/pg/leader is missing or empty"), r.absence());
    r = k.changed(P + "/members/pg1", member("10.0.0.2:5432", "replica", "running"), 6);
    r = k.changed(P + "/leader", "pg0", 7);
    assertEquals("10.0.0.1:5432", r.primary());
    assertEquals(7, r.revision());
    assertEquals(List.of("10.0.0.2:5432"), r.replicas());
    assertNull(k.changed(P + "/optime/leader", "123", 8), "other keys are ignored");
    assertNull(k.changed(P + "/config", "{}", 9));
    assertNull(k.changed(P + "/members", "", 9), "the members node itself names no member");
    r = k.changed(P + "/members/pg0", member("10.0.0.1:5432", "master", "running"), 10);
    assertEquals("10.0.0.1:5432", r.primary());
    assertEquals(10, r.revision(), "the leader's record is newer than the leader key");
  }

  @Test
  void aSwitchoverAndACrashAreFollowedAndTheRevisionNeverGoesBack() {
    PatroniKeys k = new PatroniKeys("g", P);
    k.changed(P + "/members/pg0", member("[fd00::1]:5432", "master", "running"), 20);
    k.changed(P + "/members/pg1", member("h1:5433", "replica", "streaming"), 21);
    k.changed(P + "/leader", "pg0", 22);
    // a switchover: pg1's record and the leader key change
    PrimaryReading r = k.changed(P + "/leader", "pg1", 30);
    assertEquals("h1:5433", r.primary());
    assertEquals(List.of(), r.replicas(), "pg0 still says master: not a replica yet");
    r = k.changed(P + "/members/pg0", member("[fd00::1]:5432", "replica", "running"), 31);
    assertEquals(List.of("[fd00::1]:5432"), r.replicas());
    assertEquals("h1:5433", r.primary());
    // a crash: the leader key and pg1's record expire
    r = k.changed(P + "/leader", null, 40);
    assertNull(r.primary());
    assertEquals(40, r.revision());
    r = k.changed(P + "/members/pg1", null, 40);
    assertNull(r.primary());
    // the survivor takes the lock; its record is older than what was read: the reading is not
    r = k.changed(P + "/leader", "pg0", 45);
    assertEquals("[fd00::1]:5432", r.primary());
    assertEquals(45, r.revision());
    r = k.changed(P + "/members/pg0", member("[fd00::1]:5432", "master", "running"), 46);
    assertEquals(46, r.revision());
    // read again after a reconnect: same keys at the same revisions, never an older reading
    r = k.changed(P + "/leader", "pg0", 45);
    assertEquals(46, r.revision());
    assertEquals("[fd00::1]:5432", r.primary());
  }

  @Test
  void aLeaderWithoutAUsableRecordIsNoPrimaryAndNamesWhy() {
    PatroniKeys k = new PatroniKeys("g", P);
    PrimaryReading r = k.changed(P + "/leader", "pg9", 3);
    assertNull(r.primary());
    assertEquals(
        "Patroni's leader key names pg9, whose record /service/pg/members/pg9 is missing",
        r.absence());
    r = k.changed(P + "/members/pg9", "not json", 4);
    assertNull(r.primary());
    assertTrue(r.absence().contains("is not a JSON object"), r.absence());
    r = k.changed(P + "/members/pg9", "{\"role\":\"master\"}", 5);
    assertTrue(r.absence().endsWith("has no conn_url"), r.absence());
    r = k.changed(P + "/members/pg9", "{\"conn_url\":\"postgres://h/db\"}", 6);
    assertTrue(r.absence().contains("names no host:port"), r.absence());
    r = k.changed(P + "/members/pg9", "{\"conn_url\":\"postgres://h:5432/db?x=1\"}", 7);
    assertEquals("h:5432", r.primary());
    r = k.changed(P + "/leader", " ", 8);
    assertNull(r.primary());
    assertEquals(List.of(), r.replicas());
  }

  @Test
  void replicasAreRunningOrStreamingMembersWithRoleReplicaOtherThanTheLeader() {
    PatroniKeys k = new PatroniKeys("g", P);
    k.changed(P + "/leader", "a", 1);
    k.changed(P + "/members/a", member("a:1", "master", "running"), 2);
    k.changed(P + "/members/b", member("b:1", "replica", "streaming"), 3);
    k.changed(P + "/members/c", member("c:1", "replica", "starting"), 4);
    k.changed(P + "/members/d", member("d:1", "replica", "stopped"), 5);
    PrimaryReading r = k.changed(P + "/members/e", member("e:1", "replica", "running"), 6);
    assertEquals(List.of("b:1", "e:1"), r.replicas());
    r = k.changed(P + "/members/b", null, 7);
    assertEquals(List.of("e:1"), r.replicas());
    assertEquals("a:1", r.primary());
  }
}
