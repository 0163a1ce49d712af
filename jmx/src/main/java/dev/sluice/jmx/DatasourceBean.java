package dev.sluice.jmx;

import java.util.concurrent.atomic.AtomicLong;
import javax.management.AttributeChangeNotification;
import javax.management.MBeanNotificationInfo;
import javax.management.NotificationBroadcasterSupport;

/** The {@code sluice:type=DataSource} MXBean of one datasource. */
public final class DatasourceBean extends NotificationBroadcasterSupport
    implements DataSourceMXBean {

  private final DatasourceControl control;
  private final AtomicLong sequence = new AtomicLong();

  public DatasourceBean(DatasourceControl control) {
    super(
        new MBeanNotificationInfo(
            new String[] {AttributeChangeNotification.ATTRIBUTE_CHANGE},
            AttributeChangeNotification.class.getName(),
            "The datasource state changed"));
    this.control = control;
  }

  /** {@code <domain>:type=DataSource,schema=<schema>,name=<name>}. */
  public static String objectName(String domain, String schema, String name) {
    return domain + ":type=DataSource,schema=" + schema + ",name=" + name;
  }

  @Override
  public String getSchema() {
    return control.schema();
  }

  @Override
  public String getName() {
    return control.name();
  }

  @Override
  public String getEndpoint() {
    return control.endpoint();
  }

  @Override
  public String getState() {
    return Instance.stateName(control.disabled());
  }

  @Override
  public boolean isDisabled() {
    return control.disabled();
  }

  @Override
  public int getOpenConnections() {
    return control.openConnections();
  }

  @Override
  public long getRefusedConnections() {
    return control.refusedConnections();
  }

  @Override
  public long getAbortedConnections() {
    return control.abortedConnections();
  }

  @Override
  public String getRegistryPath() {
    return control.registryPath();
  }

  @Override
  public void disable() {
    control.setDisabled(true);
  }

  @Override
  public void enable() {
    control.setDisabled(false);
  }

  /** Announces a change of this datasource's state. */
  public void stateChanged(boolean wasDisabled, boolean nowDisabled) {
    sendNotification(
        new AttributeChangeNotification(
            this,
            sequence.incrementAndGet(),
            System.currentTimeMillis(),
            "State changed to " + Instance.stateName(nowDisabled),
            "State",
            String.class.getName(),
            Instance.stateName(wasDisabled),
            Instance.stateName(nowDisabled)));
  }
}
