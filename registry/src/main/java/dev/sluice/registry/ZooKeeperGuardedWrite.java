package dev.sluice.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.BackgroundCallback;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/**
 * A write that ZooKeeper applies only while a token node exists: one {@code multi} of a {@code
 * check} of the token with the {@code setData} (or, when the node is absent, the {@code create}) of
 * each target. Parents of an absent target are created first, outside the transaction: they are
 * empty, persistent and harmless to anyone.
 *
 * <p>The server decides, not this JVM: if Curator retries the {@code multi} after the session was
 * replaced, an ephemeral token of the old session is gone and the write is refused. Bounded by the
 * client's connection timeout; runs on the caller's thread (Curator's event thread only answers).
 */
final class ZooKeeperGuardedWrite {

  private final CuratorFramework client;
  private final String connectString;

  ZooKeeperGuardedWrite(CuratorFramework client, String connectString) {
    this.client = client;
    this.connectString = connectString;
  }

  /**
   * Writes each value of {@code writes} to its node, all in one {@code multi}, if the node {@code
   * t} exists when ZooKeeper applies it. Each node is set, or created when absent (its parents
   * first, outside the transaction).
   *
   * @throws NotLeaderException from {@code refusedByCheck}: the token is gone, nothing was written
   * @throws RegistryException ZooKeeper refused or did not answer in time; nothing was written, or
   *     (no answer) it is applied later only while the token still exists
   */
  void write(String t, Map<String, String> writes, Supplier<NotLeaderException> refusedByCheck)
      throws RegistryException {
    long deadline =
        System.nanoTime()
            + TimeUnit.MILLISECONDS.toNanos(client.getZookeeperClient().getConnectionTimeoutMs());
    String targets = String.join(", ", writes.keySet());
    for (int attempt = 0; attempt < 3; attempt++) {
      List<Op> ops = new ArrayList<>();
      for (Map.Entry<String, String> w : writes.entrySet()) {
        String target = w.getKey();
        byte[] data = NodeValue.encode(w.getValue());
        CuratorEvent exists =
            await(cb -> client.checkExists().inBackground(cb).forPath(target), deadline, target);
        if (exists.getStat() != null) {
          ops.add(() -> client.transactionOp().setData().forPath(target, data));
          continue;
        }
        // absent: its parents first (harmless to anyone), then the node with the check
        String parent = ZKPaths.getPathAndNode(target).getPath();
        if (!parent.equals("/")) {
          CuratorEvent parents =
              await(
                  cb ->
                      client
                          .create()
                          .creatingParentsIfNeeded()
                          .inBackground(cb)
                          .forPath(parent, new byte[0]),
                  deadline,
                  target);
          int rc = parents.getResultCode();
          if (rc != KeeperException.Code.OK.intValue()
              && rc != KeeperException.Code.NODEEXISTS.intValue()) {
            throw refused(target, KeeperException.Code.get(rc));
          }
        }
        ops.add(
            () ->
                client
                    .transactionOp()
                    .create()
                    .withMode(CreateMode.PERSISTENT)
                    .forPath(target, data));
      }
      if (succeeded(multi(t, ops, targets, deadline), t, targets, refusedByCheck)) {
        return;
      }
      // one appeared or vanished meanwhile: look again
    }
    throw new RegistryException(
        targets + " kept appearing and vanishing while written through ZooKeeper " + connectString);
  }

  /**
   * Whether the write of {@code event} was applied; false when the node was absent (or, for a
   * create, present).
   *
   * @throws NotLeaderException the check of the token failed
   */
  private boolean succeeded(
      CuratorEvent event, String t, String target, Supplier<NotLeaderException> refusedByCheck)
      throws RegistryException {
    int rc = event.getResultCode();
    if (rc == KeeperException.Code.OK.intValue()) {
      return true;
    }
    if (checkFailed(event, t)) {
      throw refusedByCheck.get();
    }
    if (rc == KeeperException.Code.NONODE.intValue()
        || rc == KeeperException.Code.NODEEXISTS.intValue()) {
      return false;
    }
    throw refused(target, KeeperException.Code.get(rc));
  }

  private boolean checkFailed(CuratorEvent event, String t) throws RegistryException {
    List<CuratorTransactionResult> results = event.getOpResults();
    if (results != null && !results.isEmpty()) {
      int error = results.get(0).getError();
      return error != KeeperException.Code.OK.intValue();
    }
    // No per-operation results: ask whether the token is still there.
    try {
      return client.checkExists().forPath(t) == null;
    } catch (Exception e) {
      throw new RegistryException(
          "ZooKeeper " + connectString + " could not be asked about " + t + ": " + e, e);
    }
  }

  private interface Op {
    CuratorOp make() throws Exception;
  }

  /** The check of the token {@code t} and {@code writes}, in one {@code multi}. */
  private CuratorEvent multi(String t, List<Op> writes, String targets, long deadline)
      throws RegistryException {
    return await(
        cb -> {
          List<CuratorOp> ops = new ArrayList<>();
          ops.add(client.transactionOp().check().forPath(t));
          for (Op w : writes) {
            ops.add(w.make());
          }
          client.transaction().inBackground(cb).forOperations(ops);
        },
        deadline,
        targets);
  }

  private interface Call {
    void start(BackgroundCallback callback) throws Exception;
  }

  /** Runs {@code call} in the background and waits for its answer until {@code deadline}. */
  private CuratorEvent await(Call call, long deadline, String target) throws RegistryException {
    AtomicReference<CuratorEvent> answer = new AtomicReference<>();
    CountDownLatch answered = new CountDownLatch(1);
    try {
      call.start(
          (c, event) -> {
            answer.set(event);
            answered.countDown();
          });
      if (!answered.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new RegistryException(
            "ZooKeeper "
                + connectString
                + " did not answer writing "
                + target
                + " in time; it is applied later only if the token still exists then");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException("interrupted writing " + target, e);
    } catch (RegistryException e) {
      throw e;
    } catch (Exception e) {
      throw new RegistryException(
          "writing " + target + " to ZooKeeper " + connectString + " failed: " + e, e);
    }
    return answer.get();
  }

  private RegistryException refused(String target, KeeperException.Code code) {
    return new RegistryException(
        "ZooKeeper " + connectString + " refused writing " + target + ": " + code);
  }
}
