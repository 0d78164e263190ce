; Inno Setup 6 script: a per-user installer for provet-xero (no admin rights needed).
; Built by packaging/build.py on Windows, which passes the values below from packaging/bundle_info.py and
; provet_xero_gui.__version__ (the one place they are set):
;   ISCC /DAppVersion=<version> "/DAppPublisher=<publisher>" /DAppId={{<GUID>} /DSourceDir=<bundle> /O<dist> provet-xero.iss
#ifndef AppVersion
  #error AppVersion is not set: build with packaging/build.py (it passes /DAppVersion=...)
#endif
#ifndef AppPublisher
  #error AppPublisher is not set: build with packaging/build.py
#endif
#ifndef AppId
  #error AppId is not set: build with packaging/build.py
#endif
#ifndef SourceDir
  #define SourceDir AddBackslash(SourcePath) + "..\..\build\dist\provet-xero"
#endif
#ifndef OutputDir
  #define OutputDir AddBackslash(SourcePath) + "..\..\dist"
#endif
#define AppName "provet-xero"
#define AppExe "provet-xero.exe"
; The value name "provet-xero" under HKCU\...\Run is the one provet_xero_gui/autostart.py writes, so
; Settings > "Start at login" and the installer's task switch the same thing.
#define RunKey "Software\Microsoft\Windows\CurrentVersion\Run"

[Setup]
AppId={#AppId}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
VersionInfoCompany={#AppPublisher}
VersionInfoDescription={#AppName} installer
; Per user, no UAC prompt: {autopf} is %LOCALAPPDATA%\Programs with lowest privileges.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
SetupIconFile={#SourcePath}\..\..\resources\icons\provet-xero.ico
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Close a running provet-xero (tray included) before replacing its files, start it again afterwards.
CloseApplications=yes
RestartApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startatlogin"; Description: "Start {#AppName} when I sign in to Windows (it waits in the tray)"; GroupDescription: "Start:"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A previous version's bundle is replaced whole, so no stale library is left beside the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Keeps the clinic's Xero in step with Provet Cloud"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "{#RunKey}"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"" --minimized"; Tasks: startatlogin; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Only when the user asked to remove their data too (see RemoveUserData below): sign out of Xero and delete
; the Provet secret from Windows Credential Manager while the program is still there.
Filename: "{app}\{#AppExe}"; Parameters: "disconnect xero"; Flags: runhidden waituntilterminated; Check: RemoveUserData; RunOnceId: "DisconnectXero"
Filename: "{app}\{#AppExe}"; Parameters: "disconnect provet"; Flags: runhidden waituntilterminated; Check: RemoveUserData; RunOnceId: "DisconnectProvet"

[Code]
var
  RemoveData: Boolean;
  Asked: Boolean;

// Settings, the mapping, sync history and logs stay unless the user says otherwise: a reinstall or an
// upgrade picks up where it left off. Silent uninstalls never remove them.
function RemoveUserData: Boolean;
begin
  if not Asked then
  begin
    Asked := True;
    RemoveData := (not UninstallSilent) and
      (MsgBox('Also remove provet-xero''s settings, mapping, sync history and logs from this computer, and sign out of Xero?' + #13#10#13#10 +
              'Choose No to keep them for a later reinstall.', mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES);
  end;
  Result := RemoveData;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
  begin
    RemoveUserData();
    // "Start at login" may have been switched on from the app's Settings rather than the installer.
    RegDeleteValue(HKEY_CURRENT_USER, '{#RunKey}', '{#AppName}');
  end;
  if (CurUninstallStep = usPostUninstall) and RemoveData then
    // platformdirs' user_config_dir / user_data_dir / user_log_dir (appauthor=False) all live here.
    DelTree(ExpandConstant('{localappdata}\{#AppName}'), True, True, True);
end;
