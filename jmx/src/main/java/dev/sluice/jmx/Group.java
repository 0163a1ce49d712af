package dev.sluice.jmx;

import java.util.Arrays;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.ReflectionException;

/**
 * The {@code sluice:type=Group,name=<group>} MXBean: the attributes of {@link GroupMXBean}, the
 * operation {@code setPrimary(String hostPort)}, and a notification for each change of {@code
 * Primary}.
 */
public final class Group extends DescribedBean implements GroupMXBean {

  static final String SET_PRIMARY = "setPrimary";

  private final GroupControl control;

  public Group(GroupControl control) {
    super(
        GroupMXBean.class,
        changes(
            "The group's Primary changed (a failover, or no primary known: empty); the"
                + " notification carries the old and the new value"));
    this.control = control;
  }

  /** Announces a change of {@code Primary} ({@code null}: unknown, shown empty). */
  public void primaryChanged(String was, String now) {
    announce("Primary", orEmpty(was), orEmpty(now));
  }

  @Override
  public MBeanInfo getMBeanInfo() {
    MBeanInfo info = super.getMBeanInfo();
    MBeanOperationInfo[] ops = Arrays.copyOf(info.getOperations(), info.getOperations().length + 1);
    ops[ops.length - 1] =
        new MBeanOperationInfo(
            SET_PRIMARY,
            "Names host:port the group's primary (primary=node groups): writes it into the group's"
                + " registry node and returns once this JVM applied it (at most 5 s). Every"
                + " instance then routes new connects there and aborts those to the old primary.",
            new MBeanParameterInfo[] {
              new MBeanParameterInfo(
                  "hostPort", String.class.getName(), "the new primary, host:port")
            },
            String.class.getName(),
            MBeanOperationInfo.ACTION);
    return new MBeanInfo(
        info.getClassName(),
        info.getDescription(),
        info.getAttributes(),
        info.getConstructors(),
        ops,
        info.getNotifications(),
        info.getDescriptor());
  }

  @Override
  public Object invoke(String actionName, Object[] params, String[] signature)
      throws MBeanException, ReflectionException {
    if (SET_PRIMARY.equals(actionName)
        && params != null
        && params.length == 1
        && (params[0] == null || params[0] instanceof String)) {
      return setPrimary((String) params[0]);
    }
    return super.invoke(actionName, params, signature);
  }

  /** As {@link GroupControl#setPrimary}. */
  public String setPrimary(String hostPort) {
    return control.setPrimary(hostPort);
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
