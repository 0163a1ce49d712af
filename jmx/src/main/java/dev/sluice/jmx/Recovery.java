package dev.sluice.jmx;

import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanNotificationInfo;
import javax.management.Notification;

/**
 * The {@code sluice:type=Recovery} MXBean. Announces each change of {@code Leader} and of {@code
 * Enabled} with an {@code AttributeChangeNotification} ({@code "true"} / {@code "false"}), and each
 * detection of the leader's probes with a notification of type {@value #DETECTION}.
 */
public final class Recovery extends DescribedBean implements RecoveryMXBean {

  /** The type of a detection's notification; its message is the detection. */
  public static final String DETECTION = "sluice.recovery.detection";

  private final RecoveryControl control;
  private final AtomicLong detections = new AtomicLong();

  public Recovery(RecoveryControl control) {
    super(
        RecoveryMXBean.class,
        changes(
            "This JVM took or lost the fleet's leadership (Leader), or the global recovery switch"
                + " changed (Enabled); the notification carries the old and the new value"),
        new MBeanNotificationInfo(
            new String[] {DETECTION},
            Notification.class.getName(),
            "The fleet leader's probes found an endpoint down, or up again"));
    this.control = control;
  }

  /** Announces that this JVM took or lost the fleet's leadership. */
  public void leaderChanged(boolean now) {
    announce("Leader", Boolean.toString(!now), Boolean.toString(now));
  }

  /** Announces a detection of the leader's probes. */
  public void detected(String text) {
    sendNotification(
        new Notification(
            DETECTION, this, detections.incrementAndGet(), System.currentTimeMillis(), text));
  }

  /** Announces that the global recovery switch changed. */
  public void enabledChanged(boolean now) {
    announce("Enabled", Boolean.toString(!now), Boolean.toString(now));
  }

  @Override
  public boolean isLeader() {
    return control.leader();
  }

  @Override
  public String getLeaderId() {
    return control.leaderId();
  }

  @Override
  public String getParticipantId() {
    return control.participantId();
  }

  @Override
  public boolean isEnabled() {
    return control.enabled();
  }

  @Override
  public String getAutoDisable() {
    return control.autoDisable();
  }

  @Override
  public String[] getRecentDetections() {
    return control.recentDetections().toArray(new String[0]);
  }

  @Override
  public String[] getRecentActions() {
    return control.recentActions().toArray(new String[0]);
  }

  @Override
  public String disable() {
    return control.setEnabled(false);
  }

  @Override
  public String enable() {
    return control.setEnabled(true);
  }

  @Override
  public String acknowledge(String schemaSlashName) {
    return control.acknowledge(schemaSlashName);
  }
}
