package dev.sluice.jmx;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ReflectionException;
import javax.management.StandardEmitterMBean;

/**
 * The {@code sluice:type=Group,name=<group>} MXBean: the attributes of {@link GroupMXBean}, the
 * operation {@code setPrimary(String hostPort)}, and a notification for each change of {@code
 * Primary}.
 */
public final class Group extends StandardEmitterMBean implements GroupMXBean {

  static final String SET_PRIMARY = "setPrimary";

  private final GroupControl control;
  private final AtomicLong sequence = new AtomicLong();

  public Group(GroupControl control) {
    super(
        GroupMXBean.class,
        true,
        new NotificationBroadcasterSupport(AnnouncingBean.info("The group's primary changed")));
    this.control = control;
  }

  /** Announces a change of {@code Primary} ({@code null}: unknown, shown empty). */
  public void primaryChanged(String was, String now) {
    sendNotification(
        AnnouncingBean.change(
            this, sequence.incrementAndGet(), "Primary", orEmpty(was), orEmpty(now)));
  }

  @Override
  public MBeanInfo getMBeanInfo() {
    MBeanInfo info = super.getMBeanInfo();
    MBeanOperationInfo[] ops = Arrays.copyOf(info.getOperations(), info.getOperations().length + 1);
    ops[ops.length - 1] =
        new MBeanOperationInfo(
            SET_PRIMARY,
            "Names host:port the group's primary through the registry (primary=node groups)",
            new MBeanParameterInfo[] {
              new MBeanParameterInfo("hostPort", String.class.getName(), "the new primary")
            },
            "void",
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
      setPrimary((String) params[0]);
      return null;
    }
    return super.invoke(actionName, params, signature);
  }

  /** As {@link GroupControl#setPrimary}. */
  public void setPrimary(String hostPort) {
    control.setPrimary(hostPort);
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
