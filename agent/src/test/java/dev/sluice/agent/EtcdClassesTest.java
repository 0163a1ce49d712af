package dev.sluice.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdClassesTest {

  /** A process id no process has: above Linux's pid_max (2^22). */
  private static final long GONE = 99_999_999L;

  @TempDir Path dir;

  @Test
  void aCopyWhoseProcessIsGoneAndWhoseLockIsFreeIsDeleted() throws Exception {
    Path copy = Files.write(dir.resolve(EtcdClasses.COPY_PREFIX + GONE + "-1.jar"), new byte[] {1});
    Path other = Files.write(dir.resolve("sluice-other.jar"), new byte[] {1});

    EtcdClasses.removeStaleCopies(dir);

    assertFalse(Files.exists(copy), "the copy of a process that is gone is deleted");
    assertTrue(Files.exists(other), "a file that is not a copy is left alone");
  }

  @Test
  void aCopyStillLockedIsKeptEvenIfNoProcessHereHasItsId() throws Exception {
    // A process in another PID namespace (a container sharing the temporary directory) holds it.
    Path copy = Files.write(dir.resolve(EtcdClasses.COPY_PREFIX + GONE + "-2.jar"), new byte[] {1});
    try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.WRITE);
        FileLock lock = channel.lock()) {

      EtcdClasses.removeStaleCopies(dir);

      assertTrue(lock.isValid());
      assertTrue(Files.exists(copy), "a locked copy is somebody's: kept");
    }
  }

  @Test
  void aCopyOfThisProcessIsKept() throws Exception {
    Path copy =
        Files.write(
            dir.resolve(EtcdClasses.COPY_PREFIX + ProcessHandle.current().pid() + "-3.jar"),
            new byte[] {1});

    EtcdClasses.removeStaleCopies(dir);

    assertTrue(Files.exists(copy));
  }
}
