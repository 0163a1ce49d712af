package dev.sluice.jmx;

/** The {@code sluice:type=Group,name=<group>} MXBean. */
public final class Group implements GroupMXBean {

  private final GroupControl control;

  public Group(GroupControl control) {
    this.control = control;
  }

  /** {@code <domain>:type=Group,name=<group>}. */
  public static String objectName(String domain, String group) {
    return domain + ":type=Group,name=" + group;
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  @Override
  public String getAddress() {
    return orEmpty(control.address());
  }

  @Override
  public String getReadAddress() {
    return orEmpty(control.readAddress());
  }

  @Override
  public String getPrimary() {
    return orEmpty(control.primary());
  }

  @Override
  public String getPrimarySource() {
    return control.primarySource();
  }

  @Override
  public long getPrimaryRevision() {
    return control.primaryRevision();
  }

  @Override
  public String[] getReplicas() {
    return control.replicas();
  }

  @Override
  public long getFailovers() {
    return control.failovers();
  }

  @Override
  public String getLastFailover() {
    return orEmpty(control.lastFailover());
  }

  @Override
  public int getOpenConnections() {
    return control.openConnections();
  }
}
