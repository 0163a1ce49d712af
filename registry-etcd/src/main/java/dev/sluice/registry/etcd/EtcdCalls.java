package dev.sluice.registry.etcd;

import dev.sluice.registry.NodeValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What every part of the etcd registry needs of jetcd: keys as text, bounded waits, errors told.
 */
final class EtcdCalls {

  private EtcdCalls() {}

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  static String text(ByteSequence b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  /** A key's value as the agent reads it: bounded (see {@link NodeValue#decodeBounded}). */
  static String value(KeyValue kv) {
    return NodeValue.decodeBounded(kv.getValue().getBytes());
  }

  /**
   * The answer to {@code future}, waited for at most {@code timeoutMs}; the call is cancelled when
   * none comes, and a failure is thrown as its cause.
   */
  static <T> T await(CompletableFuture<T> future, long timeoutMs) throws Exception {
    try {
      return future.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof Exception ? (Exception) cause : e;
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new TimeoutException("no answer within " + timeoutMs + " ms");
    }
  }

  static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message;
  }

  /** Whether etcd answered that the lease (or key) asked for does not exist. */
  static boolean notFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof EtcdException && ((EtcdException) t).getErrorCode() == ErrorCode.NOT_FOUND) {
        return true;
      }
    }
    return false;
  }

  /** Whether a response did not fit into one gRPC message. */
  static boolean tooLarge(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof EtcdException
          && ((EtcdException) t).getErrorCode() == ErrorCode.RESOURCE_EXHAUSTED) {
        return true;
      }
      if (Status.fromThrowable(t).getCode() == Status.Code.RESOURCE_EXHAUSTED) {
        return true;
      }
    }
    return false;
  }

  /** Whether a watch failed because the revisions it had to deliver were compacted away. */
  static boolean compacted(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof CompactedException) {
        return true;
      }
    }
    return false;
  }
}
