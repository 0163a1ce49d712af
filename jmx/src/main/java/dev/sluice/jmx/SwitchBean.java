package dev.sluice.jmx;

/** An MXBean with an {@code ENABLED}/{@code DISABLED} {@code State} that announces its changes. */
abstract class SwitchBean extends AnnouncingBean {

  SwitchBean(String what) {
    super("The " + what + " state changed");
  }

  /** Announces a change of the enforced state with an attribute-change notification. */
  public void stateChanged(boolean wasDisabled, boolean nowDisabled) {
    announce("State", stateName(wasDisabled), stateName(nowDisabled));
  }

  static String stateName(boolean disabled) {
    return disabled ? "DISABLED" : "ENABLED";
  }
}
