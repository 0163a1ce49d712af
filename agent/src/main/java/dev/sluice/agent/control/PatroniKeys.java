package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.PrimaryReading;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Patroni cluster's keys as a prefix watch of {@code {patroni.namespace}/<scope>} reports them,
 * and the primary and replicas they name (SPEC section 7): {@code leader} holds the leader's member
 * name, {@code members/<name>} a JSON record whose {@code conn_url} ({@code
 * postgres://host:port/db}) gives the member's {@code host:port}; members with {@code role} {@code
 * replica} and {@code state} {@code running} or {@code streaming} are the replicas. Other keys
 * ({@code config}, {@code status}, {@code optime/leader}, {@code history}, …) are ignored.
 *
 * <p>A reading's revision is the newer of the leader key's and the leader's member record's
 * revisions (a deletion's revision when gone), never lower than an earlier reading's: an older
 * state never replaces a newer one, also when the keys are read again after a reconnect.
 */
final class PatroniKeys {

  private static final Logger log = LoggerFactory.getLogger(PatroniKeys.class);

  /** A member record: its {@code host:port} (or why there is none), role and state. */
  private static final class Member {
    final String hostPort;
    final String problem;
    final String role;
    final String state;
    final long revision;

    Member(String hostPort, String problem, String role, String state, long revision) {
      this.hostPort = hostPort;
      this.problem = problem;
      this.role = role;
      this.state = state;
      this.revision = revision;
    }
  }

  private final String group;
  private final String prefix;
  private final Set<String> loggedProblems = ConcurrentHashMap.newKeySet();
  private final Map<String, Member> members = new TreeMap<>();
  private final Map<String, Long> goneRevisions = new TreeMap<>();
  private String leader;
  private long leaderRevision = -1;
  private long lastRevision = -1;

  /**
   * @param prefix {@code {patroni.namespace}/<scope>}, as the watch reports keys below it
   */
  PatroniKeys(String group, String prefix) {
    this.group = group;
    this.prefix = prefix;
  }

  /** The key naming the leader. */
  String leaderKey() {
    return prefix + "/leader";
  }

  /**
   * {@code key} holds {@code value} ({@code null}: gone) since {@code revision}; the reading it
   * leads to, or {@code null} for a key that names neither the leader nor a member.
   */
  PrimaryReading changed(String key, String value, long revision) {
    if (key.equals(leaderKey())) {
      String name = value == null ? "" : value.trim();
      leader = name.isEmpty() ? null : name;
      leaderRevision = revision;
    } else if (key.startsWith(prefix + "/members/")
        && key.indexOf('/', prefix.length() + "/members/".length()) < 0) {
      String name = key.substring(prefix.length() + "/members/".length());
      if (value == null) {
        members.remove(name);
        goneRevisions.put(name, revision);
      } else {
        members.put(name, member(key, value, revision));
        goneRevisions.remove(name);
      }
    } else {
      return null;
    }
    return reading();
  }

  private PrimaryReading reading() {
    PrimaryReading r;
    if (leader == null) {
      r =
          PrimaryReading.none(
              "Patroni's leader key " + leaderKey() + " is missing or empty", leaderRevision);
    } else {
      Member m = members.get(leader);
      long revision =
          Math.max(
              leaderRevision, m != null ? m.revision : goneRevisions.getOrDefault(leader, -1L));
      String record = prefix + "/members/" + leader;
      if (m == null) {
        r =
            PrimaryReading.none(
                "Patroni's leader key names " + leader + ", whose record " + record + " is missing",
                revision);
      } else if (m.hostPort == null) {
        r =
            PrimaryReading.none(
                "Patroni's leader key names " + leader + ", whose record " + record + m.problem,
                revision);
      } else {
        r = PrimaryReading.primary(m.hostPort, revision);
      }
    }
    lastRevision = Math.max(lastRevision, r.revision());
    return r.withRevision(lastRevision).withReplicas(replicas());
  }

  /** The running replicas other than the leader, by member name. */
  private List<String> replicas() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Member> e : members.entrySet()) {
      Member m = e.getValue();
      if (!e.getKey().equals(leader)
          && m.hostPort != null
          && "replica".equals(m.role)
          && ("running".equals(m.state) || "streaming".equals(m.state))
          && !out.contains(m.hostPort)) {
        out.add(m.hostPort);
      }
    }
    return out;
  }

  private Member member(String key, String json, long revision) {
    Map<String, String> fields;
    try {
      fields = Json.flat(json);
    } catch (IllegalArgumentException e) {
      return problem(key, json, " is not a JSON object (" + e.getMessage() + ")", revision);
    }
    String url = fields.get("conn_url");
    if (url == null) {
      return problem(key, json, " has no conn_url", revision);
    }
    String hostPort;
    try {
      URI uri = new URI(url.trim());
      if (uri.getHost() == null || uri.getPort() < 0) {
        return problem(key, json, "'s conn_url " + url + " names no host:port", revision);
      }
      hostPort = AgentConfig.normalisedHostPort(uri.getHost() + ":" + uri.getPort());
    } catch (URISyntaxException | IllegalArgumentException e) {
      return problem(key, json, "'s conn_url " + url + " is not a URL", revision);
    }
    return new Member(hostPort, null, fields.get("role"), fields.get("state"), revision);
  }

  private Member problem(String key, String json, String problem, long revision) {
    if (loggedProblems.add(key + "\u0000" + json)) {
      log.warn("group {}: Patroni's member record {}{}: {}", group, key, problem, json);
    }
    return new Member(null, problem, null, null, revision);
  }
}
