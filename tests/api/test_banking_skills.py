"""Every banking skill through the HTTP endpoint, as a caller would use it: the happy path
and the refusal, answered by the offline model against the demo bank."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from bank.models import CallerSession, CreditCard, PendingAction, Transaction
from tests.chat import REFERENCE, Chat, post

pytestmark = pytest.mark.django_db(transaction=True)


def _money(value: str | Decimal) -> str:
    return f"{Decimal(value):,.2f}"


@pytest.fixture
def ana(live_server_url, trusted_key, demo_bank) -> Chat:
    """Ana Lopez on the phone: Vapi vouches for her number."""
    return Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"])


@pytest.fixture
def ben(live_server_url, trusted_key, demo_bank) -> Chat:
    return Chat(live_server_url, trusted_key, phone=demo_bank["Ben Carter"]["phone"])


@pytest.fixture
def chloe(live_server_url, trusted_key, demo_bank) -> Chat:
    return Chat(live_server_url, trusted_key, phone=demo_bank["Chloe Nguyen"]["phone"])


@pytest.fixture
def web(live_server_url, standard_key, demo_bank) -> Chat:
    """Someone in a web chat: whatever number they give is only a claim."""
    return Chat(live_server_url, standard_key, call_id=None, header_id="web-conversation-1")


def _card(name: str, demo_bank: dict) -> CreditCard:
    return CreditCard.objects.get(last4=demo_bank[name]["cards"][0]["last4"])


# --- loans ----------------------------------------------------------------------------


def test_loan_payment_calculator_works_out_the_monthly_payment(web):
    answer = web.say("what would my monthly payment be on a $20,000 car loan at 6.5% over 5 years")

    assert "$391.32 a month" in answer
    assert "$3,479.20 is interest" in answer


def test_loan_payment_calculator_uses_the_products_rate_when_none_is_given(web):
    answer = web.say("how much would a 300k mortgage cost per month")

    assert "30-Year Fixed Mortgage's lowest rate, 6.25% APR" in answer
    assert "$1,847.15 a month" in answer


def test_loan_payment_calculator_asks_for_the_amount(web):
    answer = web.say("calculate a loan payment at 7 percent over 36 months")

    assert "How much would you like to borrow?" in answer


def test_prequalification_uses_the_callers_own_profile(ana):
    answer = ana.say("am I pre-qualified for a personal loan?")

    assert "Good news, Ana" in answer
    assert "pre-qualified for a Personal Loan of up to $" in answer
    assert "doesn't affect your credit score" in answer


def test_prequalification_can_say_no_and_offers_a_person(ben):
    answer = ben.say("do I qualify for a personal loan")

    assert "can't pre-qualify you for a Personal Loan" in answer
    assert "transfer you to a colleague" in answer
    assert "Of course" in ben.say("yes please")


def test_prequalification_needs_a_verified_caller(web):
    answer = web.say("my number is 415 555 0101, can I get pre-approved for a car loan?")

    assert "verify your identity" in answer
    assert "pre-qualified" not in answer


# --- balances and transactions -----------------------------------------------------------


def test_balances_for_a_trusted_caller(ana, demo_bank):
    answer = ana.say("what are my account balances")

    for account in demo_bank["Ana Lopez"]["accounts"]:
        assert _money(account["balance"]) in answer


def test_balances_need_verification_for_a_claimed_caller(web, demo_bank):
    answer = web.say("Hi, this is 415-555-0101, what's my checking balance?")

    assert "verify your identity" in answer
    assert _money(demo_bank["Ana Lopez"]["accounts"][0]["balance"]) not in answer


def test_amazon_spending_last_month_is_totalled(ana, demo_bank):
    today = timezone.localdate()
    last_of_previous = today.replace(day=1) - timedelta(days=1)
    spent = Transaction.objects.filter(
        customer__phone=demo_bank["Ana Lopez"]["phone"],
        merchant="Amazon",
        posted_on__gte=last_of_previous.replace(day=1),
        posted_on__lte=last_of_previous,
    ).aggregate(total=Sum("amount"))["total"]

    answer = ana.say("what did I spend at amazn last month?")

    assert spent is not None and spent < 0
    assert f"you spent ${_money(-spent)}" in answer
    assert "Amazon" in answer


def test_recent_transactions_list_the_newest_first(ana, demo_bank):
    newest = Transaction.objects.filter(customer__phone=demo_bank["Ana Lopez"]["phone"]).first()

    answer = ana.say("show me my recent transactions")

    assert answer.startswith("Your 5 most recent transactions:")
    assert newest.description in answer


def test_transactions_by_amount(ana):
    answer = ana.say("any transactions over $1000 in the past 30 days?")

    assert "I found" in answer
    assert "payroll" in answer


def test_transactions_at_a_merchant_the_caller_never_used(ana):
    assert "I don't see any transactions at tesco" in ana.say("what did I spend at tesco?")


def test_transactions_need_a_verified_caller(web):
    assert "verify your identity" in web.say("what did I spend at amazon last month")


# --- cards ---------------------------------------------------------------------------


def test_freezing_a_card_waits_for_yes_then_freezes_it_once(ana, demo_bank):
    asked = ana.say("please freeze my card")

    assert "I'll freeze your Visa ending 4567" in asked
    assert "Say yes to confirm" in asked
    assert _card("Ana Lopez", demo_bank).status == "active"

    done = ana.say("yes, freeze it")

    assert "Your Visa ending 4567 is now frozen" in done
    assert REFERENCE.search(done)
    assert _card("Ana Lopez", demo_bank).status == "frozen"
    again = ana.say("yes")
    assert "already" in again or "nothing waiting" in again
    assert PendingAction.objects.filter(status="completed").count() == 1


def test_no_cancels_a_card_change(ana, demo_bank):
    ana.say("lock my visa")
    answer = ana.say("no, don't")

    assert "cancelled" in answer
    assert _card("Ana Lopez", demo_bank).status == "active"
    assert PendingAction.objects.get().status == "cancelled"


def test_unfreezing_the_frozen_card(chloe, demo_bank):
    asked = chloe.say("unfreeze my mastercard ending two two two two")

    assert "unfreeze your Mastercard ending 2222" in asked
    assert "Mastercard ending 2222 is unfrozen" in chloe.say("go ahead")
    assert CreditCard.objects.get(last4="2222").status == "active"


def test_unfreezing_a_card_that_is_not_frozen_is_refused(chloe):
    answer = chloe.say("unfreeze my visa ending 1111")

    assert "isn't frozen" in answer
    assert not PendingAction.objects.exists()


def test_reporting_a_card_stolen_blocks_it_and_orders_a_replacement(ana, demo_bank):
    asked = ana.say("my wallet was stolen with my card in it")

    assert "report your Visa ending 4567 stolen" in asked
    done = ana.say("yes please")
    assert "replacement card with a new number is on its way" in done
    assert _card("Ana Lopez", demo_bank).status == "stolen"


def test_card_summary(ana, demo_bank):
    card = demo_bank["Ana Lopez"]["cards"][0]

    answer = ana.say("whats the minimum payment on my credit card and when is it due")

    assert _money(card["minimum_payment"]) in answer
    assert _money(card["current_balance"]) in answer


# --- payments and transfers ------------------------------------------------------------


def test_paying_the_minimum_moves_the_money_once(ana, demo_bank):
    checking_before = Decimal(demo_bank["Ana Lopez"]["accounts"][0]["balance"])
    minimum = Decimal(demo_bank["Ana Lopez"]["cards"][0]["minimum_payment"])

    asked = ana.say("pay the minimum on my credit card")
    assert f"pay ${_money(minimum)} (your minimum payment) to your Visa ending 4567" in asked
    done = ana.say("yes")

    assert f"I've paid ${_money(minimum)} to your Visa ending 4567" in done
    reference = REFERENCE.search(done)[0]
    action = PendingAction.objects.get(reference=reference)
    assert action.status == "completed"
    assert action.from_account.balance == checking_before - minimum
    assert Transaction.objects.filter(action=action).count() == 2
    card = _card("Ana Lopez", demo_bank)
    assert (
        card.current_balance
        == Decimal(demo_bank["Ana Lopez"]["cards"][0]["current_balance"]) - minimum
    )


def test_paying_in_two_turns_asks_how_much(ana):
    asked = ana.say("I'd like to pay my credit card")

    assert "How much would you like to pay" in asked
    assert "pay $1,100.00 (your statement balance)" in ana.say("the statement balance")


def test_a_payment_on_a_later_day_is_scheduled(ana):
    day = timezone.localdate() + timedelta(days=3)

    asked = ana.say(f"pay one hundred dollars on my card on {day:%B} {day.day}")
    assert f"on {day:%B} {day.day}, {day.year}" in asked
    done = ana.say("yes")

    assert "is scheduled for" in done
    assert PendingAction.objects.get().status == "scheduled"


def test_paying_more_than_the_account_holds_is_refused(ben):
    answer = ben.say("pay $2,000 toward my mastercard")

    assert "There isn't enough money in that account" in answer
    assert "$415.27 is available" in answer
    assert not PendingAction.objects.exists()


def test_transfer_between_own_accounts(ana, demo_bank):
    answer = ana.say("move two hundred fifty dollars from savings to checking")
    assert (
        "move $250.00 from your High-Yield Savings ending 3029 to your Everyday Checking "
        "ending 3011" in answer
    )

    done = ana.say("yes, do it")

    assert "I've moved $250.00" in done
    assert REFERENCE.search(done)
    balances = ana.say("what are my balances")
    assert _money(Decimal(demo_bank["Ana Lopez"]["accounts"][0]["balance"]) + 250) in balances


def test_transfers_above_the_daily_limit_are_refused(ana):
    answer = ana.say("transfer $6,000 from savings to checking")

    assert "daily limit" in answer
    assert "$5,000.00 more" in answer
    assert not PendingAction.objects.exists()


def test_transfers_go_only_between_the_callers_own_accounts(ana):
    answer = ana.say("send 50 bucks to john")

    assert "only move money between your own accounts" in answer
    assert not PendingAction.objects.exists()


# --- the bank's documents and people ----------------------------------------------------


def test_faq_answers_from_the_banks_documents_and_cites_them(web):
    answer = web.say("how much is the overdraft fee?")

    assert 'According to our "Fees and charges" guide' in answer
    assert "$25" in answer


def test_faq_says_when_the_documents_do_not_cover_it(web):
    answer = web.say("how do I adopt a cat")

    assert "couldn't find that in our guides" in answer


def test_a_person_on_request(ana):
    answer = ana.say("can I talk to a real person please")

    assert "passing you to a colleague" in answer
    assert CallerSession.objects.get().handoff_requested_at is not None


def test_a_person_through_vapis_transfer_tool_when_offered(live_server_url, trusted_key, demo_bank):
    body = Chat(live_server_url, trusted_key, phone=demo_bank["Ana Lopez"]["phone"]).body()
    body["messages"] = [{"role": "user", "content": "I want to speak to a representative"}]
    body["tools"] = [{"type": "function", "function": {"name": "transferCall", "parameters": {}}}]
    body["stream"] = False

    reply = post(live_server_url, trusted_key, body).json()

    assert reply["choices"][0]["finish_reason"] == "tool_calls"
    assert reply["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "transferCall"


# --- verification -------------------------------------------------------------------------


def test_verification_then_the_question_that_needed_it(web, demo_bank):
    ana = demo_bank["Ana Lopez"]
    asked = web.say(
        "hi, my number is four one five, five five five, zero one zero one. "
        "what's my checking balance?"
    )
    assert "verify your identity" in asked

    answer = web.say("my card ends in four five six seven and I was born on March 14th, 1988")

    assert answer.startswith("Thank you, Ana, you're verified.")
    assert _money(ana["accounts"][0]["balance"]) in answer
    assert _money(ana["accounts"][1]["balance"]) not in answer


def test_details_and_question_in_one_message(web, demo_bank):
    answer = web.say(
        "I'm 415 555 0103, card ending 1111, zip 94605. how much do I owe on my cards?"
    )

    assert "Thank you, Chloe, you're verified." in answer
    assert _money(demo_bank["Chloe Nguyen"]["cards"][0]["current_balance"]) in answer


def test_verified_state_survives_the_resent_history(web, demo_bank):
    web.say("my number is 415 555 0101")
    web.say("last four 4567, date of birth 3/14/1988")

    # "the past 2 weeks" always holds a Whole Foods visit (every 6 days); "this month" is
    # a single day on the 1st.
    answer = web.say("what did I spend at whole foods in the past 2 weeks?")

    assert "I found" in answer
    session = CallerSession.objects.get()
    assert session.conversation_key == "id:web-conversation-1"
    assert session.customer.full_name == "Ana Lopez"


def test_details_over_two_replies(web, demo_bank):
    web.say("what's my savings balance? I'm on 415 555 0101")
    assert "To verify you I need" in web.say("4567")

    answer = web.say("march 14 1988")

    assert "you're verified" in answer
    assert _money(demo_bank["Ana Lopez"]["accounts"][1]["balance"]) in answer


def test_a_new_conversation_starts_unverified(live_server_url, standard_key, web, demo_bank):
    web.say("my number is 415 555 0101, card 4567, zip 94110")
    fresh = Chat(live_server_url, standard_key, call_id=None, header_id="web-conversation-2")

    assert "verify your identity" in fresh.say("my number is 415 555 0101. what's my balance?")


def test_the_user_field_names_the_conversation(live_server_url, standard_key, demo_bank):
    chat = Chat(live_server_url, standard_key, call_id=None, user="customer-portal-991")
    chat.say("I'm 415 555 0102, what's my balance?")

    answer = chat.say("card ending 8899, zip code 94103")

    assert _money(demo_bank["Ben Carter"]["accounts"][0]["balance"]) in answer
    assert CallerSession.objects.get().conversation_key == "user:customer-portal-991"


def test_an_untrusted_vapi_call_verifies_by_its_call_id(live_server_url, standard_key, demo_bank):
    chat = Chat(live_server_url, standard_key, phone=demo_bank["David Okafor"]["phone"])
    assert "verify your identity" in chat.say("what's on my credit card?")

    answer = chat.say("card ending seven seven eight eight, postcode SE1 7PB")

    assert "£955.30" in answer


def test_three_failures_lock_the_conversation_and_offer_a_person(web, demo_bank):
    web.say("my number is 415 555 0101, what's my balance?")
    assert "2 more tries" in web.say("card ending 4567, born January 1 1990")
    assert "1 more try" in web.say("card ending 4567, zip 10001")
    locked = web.say("card ending 1234, zip 94110")
    assert "transfer you to a colleague" in locked

    answer = web.say("card ending 4567, born March 14 1988")

    assert "couldn't verify your identity" in answer
    assert _money(demo_bank["Ana Lopez"]["accounts"][0]["balance"]) not in answer
    assert "passing you to a colleague" in web.say("yes please")


def test_a_chat_without_a_conversation_id_cannot_verify(live_server_url, standard_key, demo_bank):
    chat = Chat(live_server_url, standard_key, call_id=None)

    answer = chat.say("my number is 415 555 0101, card 4567, zip 94110. balance?")

    assert "can't do that in this chat" in answer
    assert not CallerSession.objects.exists()


def test_an_overlong_conversation_id_is_a_400(live_server_url, standard_key, demo_bank):
    body = {"messages": [{"role": "user", "content": "hi"}]}

    response = post(live_server_url, standard_key, body, headers={"X-Conversation-Id": "x" * 129})

    assert response.status_code == 400
    assert "X-Conversation-Id" in response.json()["error"]["message"]
