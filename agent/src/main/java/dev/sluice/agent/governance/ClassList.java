package dev.sluice.agent.governance;

import java.util.Arrays;

/** A few classes, as an array replaced whole on change, so that readers need no lock. */
final class ClassList {

  private ClassList() {}

  /** {@code known} with {@code type} added, or {@code known} itself if it is there. */
  static Class<?>[] with(Class<?>[] known, Class<?> type) {
    for (Class<?> k : known) {
      if (k == type) {
        return known;
      }
    }
    Class<?>[] next = Arrays.copyOf(known, known.length + 1);
    next[known.length] = type;
    return next;
  }

  /** Whether {@code type} is one of {@code known}; by identity, allocation-free. */
  static boolean contains(Class<?>[] known, Class<?> type) {
    for (Class<?> k : known) {
      if (k == type) {
        return true;
      }
    }
    return false;
  }
}
