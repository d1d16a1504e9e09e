#include "cluster_setup_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

namespace clusterlive::view {
namespace {

QLabel* paragraph(const QString& text) {
  auto* label = new QLabel(text);
  label->setWordWrap(true);
  return label;
}

QStringList to_qt(const std::vector<std::string>& arguments) {
  QStringList list;
  for (const std::string& argument : arguments) list << QString::fromStdString(argument);
  return list;
}

}  // namespace

ClusterSetupDialog::ClusterSetupDialog(PrivilegedCli cli, const std::string& current_cluster_id,
                                       QWidget* parent)
    : QDialog(parent), cli_(std::move(cli)), in_a_cluster_(!current_cluster_id.empty()) {
  setWindowTitle(tr("Create or join a cluster"));
  const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  const QString leaving =
      current_cluster_id.empty()
          ? QString()
          : tr("\n\nThis PC is in cluster %1 now: it leaves it (its jobs stay where they run).")
                .arg(QString::fromStdString(current_cluster_id));

  auto* create_page = new QWidget;
  auto* create_layout = new QVBoxLayout(create_page);
  create_layout->addWidget(paragraph(
      tr("Make a new cluster with a fresh key. Other PCs join it with that key; it is shown "
         "below once the cluster is made.") + leaving));
  create_button_ = new QPushButton(tr("&Create a cluster"));
  create_button_->setObjectName("create");
  create_layout->addWidget(create_button_, 0, Qt::AlignLeft);
  create_layout->addStretch();

  auto* join_page = new QWidget;
  auto* join_layout = new QVBoxLayout(join_page);
  join_layout->addWidget(
      paragraph(tr("Type or paste the key of the cluster to join (from \"Show the key\" on a PC "
                   "of that cluster, or `sudo clusterlive key show`).") + leaving));
  join_key_ = new QLineEdit;
  join_key_->setObjectName("join-key");
  join_key_->setFont(fixed);
  join_key_->setAccessibleName(tr("cluster key to join"));
  join_layout->addWidget(join_key_);
  join_check_ = new QLabel;
  join_layout->addWidget(join_check_);
  join_button_ = new QPushButton(tr("&Join"));
  join_button_->setObjectName("join");
  join_button_->setEnabled(false);
  join_layout->addWidget(join_button_, 0, Qt::AlignLeft);
  join_layout->addStretch();

  key_page_ = new QWidget;
  QWidget* key_page = key_page_;
  auto* key_layout = new QVBoxLayout(key_page);
  key_layout->addWidget(paragraph(
      tr("The key lets any PC into this cluster: carry it by hand or on a stick, and keep it "
         "private.")));
  show_key_button_ = new QPushButton(tr("&Show the key"));
  show_key_button_->setObjectName("show-key");
  show_key_button_->setEnabled(in_a_cluster_);
  key_layout->addWidget(show_key_button_, 0, Qt::AlignLeft);
  key_ = new QLineEdit;
  key_->setObjectName("key");
  key_->setReadOnly(true);
  key_->setFont(fixed);
  key_->setAccessibleName(tr("this cluster's key"));
  copy_button_ = new QPushButton(tr("C&opy"));
  copy_button_->setEnabled(false);
  auto* key_row = new QHBoxLayout;
  key_row->addWidget(key_, 1);
  key_row->addWidget(copy_button_);
  key_layout->addLayout(key_row);
  key_layout->addStretch();

  tabs_ = new QTabWidget;
  QTabWidget* tabs = tabs_;
  tabs->addTab(create_page, tr("New cluster"));
  tabs->addTab(join_page, tr("Join a cluster"));
  tabs->addTab(key_page, tr("This cluster's key"));
  if (!current_cluster_id.empty()) tabs->setCurrentWidget(key_page);

  status_ = new QLabel;
  status_->setObjectName("status");
  status_->setWordWrap(true);
  auto* close = new QPushButton(tr("Close"));
  connect(close, &QPushButton::clicked, this, &QDialog::accept);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(tabs);
  layout->addWidget(status_);
  layout->addWidget(close, 0, Qt::AlignRight);

  connect(create_button_, &QPushButton::clicked, this, &ClusterSetupDialog::create_cluster);
  connect(join_button_, &QPushButton::clicked, this, &ClusterSetupDialog::join_cluster);
  connect(join_key_, &QLineEdit::textChanged, this, &ClusterSetupDialog::check_join_key);
  connect(join_key_, &QLineEdit::returnPressed, this, [this] {
    if (join_button_->isEnabled()) join_cluster();
  });
  connect(show_key_button_, &QPushButton::clicked, this, &ClusterSetupDialog::show_key);
  connect(copy_button_, &QPushButton::clicked, this,
          [this] { QApplication::clipboard()->setText(key_->text()); });
}

ClusterSetupDialog::~ClusterSetupDialog() {
  // A run still under way (the password dialog open) is left to finish on its own: killing
  // pkexec could leave `join` half done; its outcome shows in the daemon's status.
  if (process_ != nullptr) {
    process_->disconnect(this);
    process_->setParent(nullptr);
    connect(process_, &QProcess::finished, process_, &QObject::deleteLater);
  }
}

QString ClusterSetupDialog::shown_key() const { return key_->text(); }

QString ClusterSetupDialog::status_text() const { return status_->text(); }

void ClusterSetupDialog::run(const CliInvocation& invocation, const QString& waiting_text,
                             Finished finished) {
  process_ = new QProcess(this);
  set_busy(true);
  say(waiting_text, false);
  connect(process_, &QProcess::finished, this,
          [this, finished](int exit_code, QProcess::ExitStatus status) {
            QProcess* done = process_;
            process_ = nullptr;
            set_busy(false);
            std::string out = done->readAllStandardOutput().toStdString();
            std::string err = done->readAllStandardError().toStdString();
            done->deleteLater();
            finished(status == QProcess::NormalExit ? exit_code : -1, out, err);
            std::fill(out.begin(), out.end(), '\0');  // it may hold the key
          });
  connect(process_, &QProcess::errorOccurred, this, [this, invocation](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;  // the others end in finished()
    process_->deleteLater();
    process_ = nullptr;
    set_busy(false);
    say(tr("cannot run %1: %2")
            .arg(QString::fromStdString(invocation.program), tr("it is not installed")),
        true);
  });
  process_->start(QString::fromStdString(invocation.program), to_qt(invocation.arguments));
  if (process_ == nullptr) return;  // it failed to start, and said so
  if (!invocation.standard_input.empty()) {
    QByteArray input = QByteArray::fromStdString(invocation.standard_input);
    process_->write(input);
    input.fill('\0');
  }
  process_->closeWriteChannel();
}

void ClusterSetupDialog::set_busy(bool busy) {
  create_button_->setEnabled(!busy);
  join_button_->setEnabled(!busy && check_typed_key(join_key_->text().toStdString()).secret_hex);
  show_key_button_->setEnabled(!busy && in_a_cluster_);
}

void ClusterSetupDialog::say(const QString& text, bool problem) {
  status_->setText(text);
  status_->setStyleSheet(problem ? QString("color: #c62828") : QString());
}

void ClusterSetupDialog::create_cluster() {
  run(create_invocation(cli_), tr("making the cluster (give the password if asked)..."),
      [this](int exit_code, const std::string& out, const std::string& err) {
        if (exit_code != 0) {
          say(QString::fromStdString(describe_cli_failure(exit_code, err)), true);
          return;
        }
        in_a_cluster_ = true;
        emit cluster_changed();
        show_key();  // the key to carry to the next PC
      });
}

void ClusterSetupDialog::join_cluster() {
  TypedKey typed = check_typed_key(join_key_->text().toStdString());
  if (!typed.secret_hex) return;
  CliInvocation join = join_invocation(cli_, *typed.secret_hex);
  run(join, tr("joining cluster %1 (give the password if asked)...")
                .arg(QString::fromStdString(typed.cluster_id)),
      [this](int exit_code, const std::string& out, const std::string& err) {
        if (exit_code != 0) {
          say(QString::fromStdString(describe_cli_failure(exit_code, err)), true);
          return;
        }
        join_key_->clear();
        say(QString::fromStdString(out.substr(0, out.find('\n'))), false);  // "joined cluster <id>"
        in_a_cluster_ = true;
        show_key_button_->setEnabled(true);
        emit cluster_changed();
      });
  std::fill(join.standard_input.begin(), join.standard_input.end(), '\0');
  std::fill(typed.secret_hex->begin(), typed.secret_hex->end(), '\0');
}

void ClusterSetupDialog::show_key() {
  run(key_show_invocation(cli_), tr("reading the key (give the password if asked)..."),
      [this](int exit_code, const std::string& out, const std::string& err) {
        if (exit_code != 0) {
          say(QString::fromStdString(describe_cli_failure(exit_code, err)), true);
          return;
        }
        TypedKey key = check_typed_key(out);
        if (!key.secret_hex) {
          say(tr("clusterlive key show printed no key"), true);
          return;
        }
        key_->setText(QString::fromStdString(group_key(*key.secret_hex)));
        copy_button_->setEnabled(true);
        tabs_->setCurrentWidget(key_page_);
        say(tr("the key of cluster %1 is under \"This cluster's key\": type it on the other "
               "PCs (Join), and keep it private")
                .arg(QString::fromStdString(key.cluster_id)),
            false);
      });
}

void ClusterSetupDialog::check_join_key() {
  TypedKey typed = check_typed_key(join_key_->text().toStdString());
  join_check_->setText(typed.secret_hex
                           ? tr("the key of cluster %1").arg(QString::fromStdString(typed.cluster_id))
                           : QString::fromStdString(typed.problem));
  join_button_->setEnabled(process_ == nullptr && typed.secret_hex.has_value());
}

}  // namespace clusterlive::view
