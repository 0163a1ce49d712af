package dev.sluice.jmx;

/**
 * The {@code sluice:type=Recovery} MXBean. Announces each change of {@code Leader} and of {@code
 * Enabled} with an {@code AttributeChangeNotification} ({@code "true"} / {@code "false"}).
 */
public final class Recovery extends AnnouncingBean implements RecoveryMXBean {

  private final RecoveryControl control;

  public Recovery(RecoveryControl control) {
    super("The fleet's leadership or the global recovery switch changed");
    this.control = control;
  }

  /** Announces that this JVM took or lost the fleet's leadership. */
  public void leaderChanged(boolean now) {
    announce("Leader", Boolean.toString(!now), Boolean.toString(now));
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
  public void disable() {
    control.setEnabled(false);
  }

  @Override
  public void enable() {
    control.setEnabled(true);
  }

  @Override
  public void acknowledge(String schemaSlashName) {
    control.acknowledge(schemaSlashName);
  }
}
