package dev.sluice.jmx;

import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanNotificationInfo;
import javax.management.NotificationBroadcasterSupport;

/** An MXBean that announces changes of one of its attributes with notifications. */
abstract class AnnouncingBean extends NotificationBroadcasterSupport {

  private final AtomicLong sequence = new AtomicLong();

  /**
   * @param description what a notification of this bean says, e.g. "The datasource state …"
   */
  AnnouncingBean(String description) {
    super(info(description));
  }

  /** Sends an {@link AttributeChangeNotification} of the String attribute {@code attribute}. */
  void announce(String attribute, String was, String now) {
    sendNotification(change(this, sequence.incrementAndGet(), attribute, was, now));
  }

  /** The notification that String {@code attribute} of {@code source} changed. */
  static AttributeChangeNotification change(
      Object source, long sequence, String attribute, String was, String now) {
    return new AttributeChangeNotification(
        source,
        sequence,
        System.currentTimeMillis(),
        attribute + " changed to " + now,
        attribute,
        String.class.getName(),
        was,
        now);
  }

  /** What a bean announcing changes of its attributes declares. */
  static MBeanNotificationInfo info(String description) {
    return new MBeanNotificationInfo(
        new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
        AttributeChangeNotification.class.getName(),
        description);
  }
}
