package dev.sluice.jmx;

import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanNotificationInfo;
import javax.management.NotificationBroadcasterSupport;

/** An MXBean with an {@code ENABLED}/{@code DISABLED} {@code State} that announces its changes. */
abstract class SwitchBean extends NotificationBroadcasterSupport {

  private final AtomicLong sequence = new AtomicLong();

  SwitchBean(String what) {
    super(
        new MBeanNotificationInfo(
            new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
            AttributeChangeNotification.class.getName(),
            "The " + what + " state changed"));
  }

  /** Announces a change of the enforced state with an {@link AttributeChangeNotification}. */
  public void stateChanged(boolean wasDisabled, boolean nowDisabled) {
    sendNotification(
        new AttributeChangeNotification(
            this,
            sequence.incrementAndGet(),
            System.currentTimeMillis(),
            "State changed to " + stateName(nowDisabled),
            "State",
            String.class.getName(),
            stateName(wasDisabled),
            stateName(nowDisabled)));
  }

  static String stateName(boolean disabled) {
    return disabled ? "DISABLED" : "ENABLED";
  }
}
