package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeyRevisionsTest {

  private final List<String> heard = new ArrayList<>();
  private int syncs;
  private final KeyRevisions revisions =
      new KeyRevisions(
          new KeyListener() {
            @Override
            public void changed(String key, String value, long revision) {
              heard.add(key + "=" + value + "@" + revision);
            }

            @Override
            public void synced() {
              syncs++;
            }
          });

  @Test
  void anOlderOrRepeatedRevisionIsNeverReported() {
    assertTrue(revisions.value("/k", "a", 5));
    assertFalse(revisions.value("/k", "a", 5), "twice");
    assertFalse(revisions.value("/k", "old", 4), "older");
    assertTrue(revisions.value("/k", "b", 7));
    assertEquals(List.of("/k=a@5", "/k=b@7"), heard);
  }

  @Test
  void aDeletionIsReportedOnceAndAValueReadBeforeItStaysOut() {
    revisions.value("/k", "a", 5);
    assertTrue(revisions.gone("/k", 9));
    assertFalse(revisions.gone("/k", 10), "already gone");
    assertFalse(revisions.value("/k", "a", 5), "read before the deletion");
    assertTrue(revisions.value("/k", "c", 11));
    assertFalse(revisions.gone("/never", 3), "never seen");
    assertEquals(List.of("/k=a@5", "/k=null@9", "/k=c@11"), heard);
  }

  @Test
  void aFullReadReportsWhatVanishedThenSynced() {
    revisions.value("/a", "1", 2);
    revisions.value("/b", "2", 3);
    revisions.readAll(Set.of("/a"), 8);
    assertEquals(List.of("/a=1@2", "/b=2@3", "/b=null@8"), heard);
    assertEquals(1, syncs);
    assertEquals(8, revisions.revision("/b"));
    assertEquals(-1, revisions.revision("/c"));
  }

  @Test
  void presentIsTheLastReportAValue() {
    assertFalse(revisions.present("/k"), "never seen");
    revisions.value("/k", "a", 5);
    assertTrue(revisions.present("/k"));
    revisions.gone("/k", 9);
    assertFalse(revisions.present("/k"), "gone");
    revisions.value("/k", "a", 5);
    assertFalse(revisions.present("/k"), "a value read before the deletion changes nothing");
    revisions.value("/k", "b", 12);
    assertTrue(revisions.present("/k"));
  }
}
