# Initial data for a throwaway RT instance (internal/rtserver), loaded by
# rt-setup-database-5 --action insert after RT's own initial data.

# The exporter's API user: a privileged agent, not a superuser.
@Users = (
    { Name => 'exporter', RealName => 'Exporter API user', EmailAddress => 'exporter@rt.test',
      Privileged => 1, Password => 'exporter-password', MemberOf => 'Agents' },
);

@Groups = (
    { Name => 'Agents', Description => 'Service desk agents' },
    # Service accounts of web forms and satisfaction surveys: they create
    # tickets on a customer's behalf and record ratings, but are no agents.
    { Name => 'Integrations', Description => 'Web forms and surveys' },
);

# Global ticket custom field for customer ratings.
@CustomFields = (
    { Name => 'Satisfaction', Type => 'SelectSingle', MaxValues => 1,
      LookupType => 'RT::Queue-RT::Ticket', ApplyTo => 0,
      Description => 'Customer satisfaction, 1 (worst) to 5 (best)',
      Values => [ map { { Name => "$_", SortOrder => $_ } } 1 .. 5 ] },
);

@ACL = (
    ( map { { GroupDomain => 'UserDefined', GroupId => 'Agents', Right => $_ } }
      qw(SeeQueue ShowTicket CreateTicket ReplyToTicket CommentOnTicket ModifyTicket
         OwnTicket TakeTicket ShowTicketComments SeeCustomField ModifyCustomField
         ManageAuthTokens) ),
    ( map { { GroupDomain => 'UserDefined', GroupId => 'Integrations', Right => $_ } }
      qw(SeeQueue ShowTicket CreateTicket SeeCustomField ModifyCustomField) ),
    # Customers (unprivileged, created on their first mail) write in by mail.
    ( map { { GroupDomain => 'SystemInternal', GroupType => 'Everyone', Right => $_ } }
      qw(CreateTicket ReplyToTicket) ),
);

@Final = (
    # No mail leaves a test instance, and composing it costs ~100 ms per
    # ticket: disable the notification scrips. The autoreply scrip is only
    # unapplied from all queues, so that a queue can have it back (its
    # EmailRecord transactions are RT_System's). "On Correspond Open
    # Inactive Tickets" stays: a requestor's reply reopens a resolved ticket.
    sub {
        my $scrips = RT::Scrips->new(RT->SystemUser);
        $scrips->UnLimit;
        while (my $scrip = $scrips->Next) {
            my $module = $scrip->ActionObj->ExecModule;
            if ($module eq 'Autoreply') {
                my ($ok, $msg) = $scrip->RemoveFromObject(0);
                die "unapply " . $scrip->Description . ": $msg" unless $ok;
            } elsif ($module =~ /^Notify/) {
                my ($ok, $msg) = $scrip->SetDisabled(1);
                die "disable " . $scrip->Description . ": $msg" unless $ok;
            }
        }
    },
    # Auth tokens through RT's own API, written for the test to read.
    sub {
        open my $out, '>', $ENV{RTSERVER_TOKENS} or die "open $ENV{RTSERVER_TOKENS}: $!";
        for my $name (qw(root exporter)) {
            my $user = RT::User->new(RT->SystemUser);
            $user->Load($name);
            die "no user $name" unless $user->id;
            my $token = RT::AuthToken->new(RT::CurrentUser->new($user));
            my ($id, $msg, $auth) = $token->Create(Owner => $user->id, Description => 'internal/rtserver');
            die "token for $name: $msg" unless $id;
            print $out "$name $auth\n";
        }
        close $out or die "close $ENV{RTSERVER_TOKENS}: $!";
    },
);

1;
